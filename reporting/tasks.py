"""Celery tasks of reporting: thin, they take ids and call reporting.rollups."""

from __future__ import annotations

from celery import shared_task

from reporting import rollups


@shared_task(name="reporting.rollup_tenant", ignore_result=True)
def rollup_tenant_task(tenant_id: int, full: bool = False) -> int:
    from tenants.models import Tenant

    tenant = Tenant.objects.select_related("region").get(pk=tenant_id)
    return rollups.rollup_tenant(tenant, full=full)


@shared_task(name="reporting.rollup_all", ignore_result=True)
def rollup_all_task(full: bool = False) -> int:
    """Fan out: one task per live Pemda, so one slow schema does not hold up the rest."""
    ids = list(rollups.live_tenants().values_list("pk", flat=True))
    for tenant_id in ids:
        rollup_tenant_task.delay(tenant_id, full)
    return len(ids)


@shared_task(name="reporting.monthly_report", ignore_result=True)
def monthly_report_task(tenant_id: int, year: int, month: int) -> int:
    from reporting.monthly import monthly_report_generate
    from tenants.models import Tenant

    tenant = Tenant.objects.select_related("region__parent").get(pk=tenant_id)
    return monthly_report_generate(tenant, year, month).pk


@shared_task(name="reporting.monthly_reports_all", ignore_result=True)
def monthly_reports_all_task() -> int:
    """Last month's Bupati report for every live Pemda (their own last month)."""
    import zoneinfo

    from django.utils import timezone

    from reporting.periods import previous_month

    count = 0
    for tenant in rollups.live_tenants():
        zone = zoneinfo.ZoneInfo(tenant.region.timezone)
        year, month = previous_month(timezone.now().astimezone(zone).date())
        monthly_report_task.delay(tenant.pk, year, month)
        count += 1
    return count
