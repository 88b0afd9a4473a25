"""Billing's part of the demo: a subscription for every launched Pemda from its
launch date, and each one's invoice for last month. Idempotent."""

from __future__ import annotations

import datetime as dt
import zlib

from django.utils import timezone

from billing import services
from tenants.models import Tenant

# Populations of the named demo Pemda (BPS, rounded); the others get a steady
# made-up figure from their code, so a rerun gives the same plan.
POPULATIONS = {"35.15": 2_083_000, "35.73": 844_000, "35.78": 2_874_000, "12.11": 281_000}


def population_of(code: str) -> int:
    if code in POPULATIONS:
        return POPULATIONS[code]
    return 150_000 + zlib.crc32(code.encode()) % 1_850_000


def seed_billing_demo() -> dict[str, int]:
    from onboarding.models import PemdaOnboarding
    from reporting.periods import previous_month

    launched = dict(
        PemdaOnboarding.objects.filter(launched_on__isnull=False)
        .values_list("region_id", "launched_on")
    )
    for tenant in Tenant.objects.filter(status=Tenant.Status.LIVE, region__isnull=False,
                                        is_template=False).select_related("region"):
        assert tenant.region is not None
        starts = launched.get(tenant.region.code) or dt.date(2023, 1, 1)
        services.subscription_ensure(tenant=tenant, population=population_of(tenant.region.code),
                                     starts_on=starts)
    year, month = previous_month(timezone.now().date())
    return services.invoices_issue_month(year, month)
