"""GraphQL for 112 operations, on the tenant endpoint. Add Query/Mutation classes
(graphene.ObjectType subclasses) to these tuples; siaga112.schema combines them."""

from incidents.graphql.connections import IncidentConnectionQuery
from incidents.graphql.eido import EidoMutation, EidoQuery
from incidents.graphql.feed import IncidentFeedQuery
from incidents.graphql.mutations import IncidentMutation
from incidents.graphql.queries import IncidentQuery

TENANT_QUERIES: tuple[type, ...] = (IncidentQuery, IncidentConnectionQuery, IncidentFeedQuery,
                                    EidoQuery)
TENANT_MUTATIONS: tuple[type, ...] = (IncidentMutation, EidoMutation)
