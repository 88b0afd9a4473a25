from django.db.models import QuerySet

from tenants.models import Region, Tenant


def provinces() -> QuerySet[Region]:
    return Region.objects.filter(kind=Region.Kind.PROVINCE)


def regencies(*, province_code: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(kind=Region.Kind.REGENCY).select_related("parent")
    if province_code:
        qs = qs.filter(parent_id=province_code)
    return qs


# A Pemda whose center takes calls: real ones (live) or test ones (trial).
OPERATING_STATUSES = (Tenant.Status.TRIAL, Tenant.Status.LIVE)


def pemda_tenants(*, operating: bool = False) -> QuerySet[Tenant]:
    """Tenants that are a Pemda's call center (not public, not the template); with
    `operating`, only those in trial or live. The one way to list Pemda."""
    query = Tenant.objects.filter(region__isnull=False, is_template=False).select_related("region")
    return query.filter(status__in=OPERATING_STATUSES) if operating else query
