from django.db.models import QuerySet

from tenants.models import Region, Tenant


def provinces() -> QuerySet[Region]:
    return Region.objects.filter(kind=Region.Kind.PROVINCE)


def regencies(*, province_code: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(kind=Region.Kind.REGENCY).select_related("parent")
    if province_code:
        qs = qs.filter(parent_id=province_code)
    return qs


def pemda_tenants() -> QuerySet[Tenant]:
    """Tenants that are a Pemda's call center (not public, not the template)."""
    return Tenant.objects.filter(region__isnull=False, is_template=False).select_related("region")
