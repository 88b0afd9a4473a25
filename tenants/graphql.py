import graphene
from graphene_django import DjangoObjectType

from tenants import selectors
from tenants.models import Region


class RegionType(DjangoObjectType):
    class Meta:
        model = Region
        fields = ("code", "kind", "name", "parent", "is_city", "timezone", "slug")


class RegionQuery(graphene.ObjectType):
    """The region registry is public reference data (Kemendagri codes)."""

    provinces = graphene.List(graphene.NonNull(RegionType), required=True)
    regencies = graphene.List(
        graphene.NonNull(RegionType), required=True, province_code=graphene.String()
    )

    def resolve_provinces(root, info):
        return selectors.provinces()

    def resolve_regencies(root, info, province_code=None):
        return selectors.regencies(province_code=province_code)
