"""Celery tasks of billing: thin, they call billing.services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from billing import services
from reporting.periods import previous_month


@shared_task(name="billing.issue_month", ignore_result=True)
def issue_month_task(year: int | None = None, month: int | None = None) -> dict[str, int]:
    """Last month's invoices (WIB calendar) unless a month is given; idempotent."""
    if year is None or month is None:
        import zoneinfo

        today = timezone.now().astimezone(zoneinfo.ZoneInfo("Asia/Jakarta")).date()
        year, month = previous_month(today)
    return services.invoices_issue_month(year, month)
