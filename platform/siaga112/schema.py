"""Root GraphQL schemas: one for the public endpoint, one for tenant endpoints.

Each app contributes a Query (and Mutation) class; this module only combines
them, so the domain never imports GraphQL code.
"""

import graphene

from accounts.graphql import AccountQuery
from tenants.graphql import RegionQuery


class PublicQuery(AccountQuery, RegionQuery, graphene.ObjectType):
    pass


class TenantQuery(AccountQuery, RegionQuery, graphene.ObjectType):
    pass


public_schema = graphene.Schema(query=PublicQuery)
tenant_schema = graphene.Schema(query=TenantQuery)
schema = public_schema
