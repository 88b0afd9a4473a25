"""GraphQL for 112 operations, on the tenant endpoint. Add Query/Mutation classes
(graphene.ObjectType subclasses) to these tuples; siaga112.schema combines them."""

from incidents.graphql.eido import EidoMutation, EidoQuery
from incidents.graphql.queries import IncidentQuery

TENANT_QUERIES: tuple[type, ...] = (IncidentQuery, EidoQuery)
TENANT_MUTATIONS: tuple[type, ...] = (EidoMutation,)
