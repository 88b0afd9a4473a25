"""National and provincial figures: sums of the public rollups (reporting.models),
never a tenant schema. Shares are computed from the summed counts, so they equal
what the Pemda's own figures add up to; medians come from the summed histogram
buckets (interpolated within a bucket, so approximate to the bucket's width)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from reporting.kpis import share
from reporting.models import (
    ANSWER_EDGES,
    BUCKETS,
    COUNT_FIELDS,
    HIST_FIELDS,
    RESPONSE_EDGES,
    SUM_FIELDS,
    DailyRollup,
    MonthlyRollup,
    RollupState,
)
from reporting.periods import Period
from tenants.models import Region, Tenant

# A rollup older than this is shown as late.
LATE_AFTER = dt.timedelta(minutes=30)

def rows(period: Period, province: str = "") -> QuerySet[DailyRollup]:
    query = DailyRollup.objects.filter(
        tenant__status=Tenant.Status.LIVE, day__gte=period.start, day__lte=period.end
    )
    if province:
        query = query.filter(province_code=province)
    return query


def _sums() -> dict[str, Sum]:
    return {f: Sum(f) for f in (*COUNT_FIELDS, *SUM_FIELDS)}


def derive(sums: Mapping[str, Any]) -> dict[str, Any]:
    """Shares and means from additive figures (the same rules as reporting.kpis)."""
    s = {k: (v or 0) for k, v in sums.items()}
    return {
        **s,
        "prank_share": share(s["prank_ghost"], s["calls"]),
        "within_10_share": share(s["within_10"], s["offered"]),
        "within_20_share": share(s["within_20"], s["offered"]),
        "answer_mean": round(s["answer_sum"] / s["answered"], 1) if s["answered"] else None,
        "a2d_mean": round(s["a2d_sum"] / s["a2d_count"], 1) if s["a2d_count"] else None,
        "ack_share": share(s["ack_ok"], s["ack_due"]),
        "arrive_share": share(s["arrive_ok"], s["arrive_due"]),
        "arrive_mean": round(s["arrive_sum"] / s["arrive_count"], 1) if s["arrive_count"]
        else None,
    }


def histogram_median(buckets: list[int], edges: tuple[int, ...]) -> float | None:
    total = sum(buckets)
    if not total:
        return None
    half = total / 2
    seen = 0
    for index, n in enumerate(buckets):
        if n and seen + n >= half:
            low = 0 if index == 0 else edges[index - 1]
            if index >= len(edges):
                return float(low)  # open last bucket: "more than" its lower edge
            return round(low + (edges[index] - low) * (half - seen) / n, 1)
        seen += n
    return None


def _bucket_sums() -> dict[str, Sum]:
    # Element by element (ArrayField index transforms): one scan with the other sums.
    return {f"{hist}_{i}": Sum(f"{hist}__{i}") for hist in HIST_FIELDS for i in range(BUCKETS)}


def totals(period: Period, province: str = "") -> dict[str, Any]:
    """Sums, shares and (approximate) medians over all live Pemda in scope: one query."""
    found = rows(period, province).aggregate(**_sums(), **_bucket_sums())
    hist = {h: [int(found.pop(f"{h}_{i}") or 0) for i in range(BUCKETS)] for h in HIST_FIELDS}
    figures = derive(found)
    figures["answer_median"] = histogram_median(hist["answer_hist"], ANSWER_EDGES)
    figures["ack_median"] = histogram_median(hist["ack_hist"], RESPONSE_EDGES)
    figures["arrive_median"] = histogram_median(hist["arrive_hist"], RESPONSE_EDGES)
    figures["histograms"] = hist
    return figures


def league(period: Period, province: str = "", sort: str = "within_10_share") -> list[dict]:
    """One row per live Pemda in scope (Pemda without rows in the period included)."""
    found = {
        r["tenant_id"]: r
        for r in rows(period, province).values("tenant_id").annotate(**_sums())
    }
    tenants = Tenant.objects.filter(status=Tenant.Status.LIVE, region__isnull=False,
                                    is_template=False).select_related("region__parent")
    if province:
        tenants = tenants.filter(region__parent_id=province)
    out = []
    for tenant in tenants:
        sums = found.get(tenant.pk, {f: 0 for f in (*COUNT_FIELDS, *SUM_FIELDS)})
        assert tenant.region is not None
        out.append({"tenant": tenant, "region": tenant.region, **derive(sums)})
    key = sort if sort in ("within_10_share", "ack_share", "arrive_share", "calls",
                           "incidents") else "within_10_share"
    out.sort(key=lambda r: (r[key] is None, -(r[key] or 0), r["region"].name))
    for rank, row in enumerate(out, start=1):
        row["rank"] = rank
    return out


def provinces(period: Period) -> list[dict[str, Any]]:
    found = {r["province_code"]: r
             for r in rows(period).values("province_code").annotate(**_sums())}
    live = {
        r["region__parent_id"]: r["n"]
        for r in Tenant.objects.filter(status=Tenant.Status.LIVE, region__isnull=False)
        .values("region__parent_id").annotate(n=Count("id"))
    }
    out = []
    for region in Region.objects.filter(kind=Region.Kind.PROVINCE).order_by("name"):
        if region.code not in found and not live.get(region.code):
            continue
        sums = found.get(region.code, {f: 0 for f in (*COUNT_FIELDS, *SUM_FIELDS)})
        out.append({"region": region, "live": live.get(region.code, 0), **derive(sums)})
    return out


def monthly(end: dt.date, months: int = 12, province: str = "") -> list[dict[str, Any]]:
    """The `months` calendar months up to `end`'s, from the monthly rollups."""
    last = end.replace(day=1)
    first = last
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    query = MonthlyRollup.objects.filter(tenant__status=Tenant.Status.LIVE, month__gte=first,
                                         month__lte=last)
    if province:
        query = query.filter(province_code=province)
    found = {r["month"]: r for r in query.values("month").annotate(**_sums())}
    out = []
    month = first
    while month <= last:
        sums = found.get(month, {f: 0 for f in (*COUNT_FIELDS, *SUM_FIELDS)})
        out.append({"month": month, **derive(sums)})
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out


@dataclass
class Freshness:
    oldest_success: dt.datetime | None
    newest_success: dt.datetime | None
    failing: int
    never: int
    tenants: int

    @property
    def age(self) -> dt.timedelta | None:
        return None if self.oldest_success is None else timezone.now() - self.oldest_success

    @property
    def age_minutes(self) -> int | None:
        age = self.age
        return None if age is None else int(age.total_seconds() // 60)

    @property
    def late(self) -> bool:
        return bool(self.never or self.failing or (self.age is not None and self.age > LATE_AFTER))


def freshness(province: str = "") -> Freshness:
    tenants = Tenant.objects.filter(status=Tenant.Status.LIVE, region__isnull=False,
                                    is_template=False)
    if province:
        tenants = tenants.filter(region__parent_id=province)
    states = RollupState.objects.filter(tenant__in=tenants)
    agg = states.aggregate(oldest=Min("last_success_at"), newest=Max("last_success_at"))
    total = tenants.count()
    succeeded = states.filter(last_success_at__isnull=False).count()
    return Freshness(
        oldest_success=agg["oldest"],
        newest_success=agg["newest"],
        failing=states.filter(~Q(last_error="")).count(),
        never=total - succeeded,
        tenants=total,
    )
