"""Root GraphQL schemas: one for the public endpoint (/graphql/ on the national
host), one for tenant endpoints (/graphql/ on <slug>.localhost).

Each app contributes Query/Mutation classes from its own graphql package; this
module only combines them, so the domain never imports GraphQL code.
"""

import graphene

from accounts.graphql import AccountQuery
from incidents.graphql import TENANT_MUTATIONS, TENANT_QUERIES
from integration.graphql import ProvinceFeedQuery
from onboarding.graphql import PUBLIC_MUTATIONS, PUBLIC_QUERIES
from tenants.graphql import RegionQuery


def _combine(name: str, parts: tuple[type, ...]) -> type | None:
    if not parts:
        return None
    return type(name, (*parts, graphene.ObjectType), {})


PublicQuery = _combine(
    "PublicQuery", (AccountQuery, RegionQuery, *PUBLIC_QUERIES, ProvinceFeedQuery)
)
TenantQuery = _combine("TenantQuery", (AccountQuery, RegionQuery, *TENANT_QUERIES))
public_schema = graphene.Schema(
    query=PublicQuery, mutation=_combine("PublicMutation", PUBLIC_MUTATIONS)
)
tenant_schema = graphene.Schema(
    query=TenantQuery, mutation=_combine("TenantMutation", TENANT_MUTATIONS)
)
schema = public_schema
