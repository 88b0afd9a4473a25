"""National and provincial figures: sums of the public rollups (reporting.models),
never a tenant schema. Shares are computed from the summed counts, so they equal
what the Pemda's own figures add up to; medians come from the summed histogram
buckets (interpolated within a bucket, so approximate to the bucket's width)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from reporting.kpis import share
from reporting.models import (
    ANSWER_EDGES,
    BUCKETS,
    COUNT_FIELDS,
    HIST_FIELDS,
    RESPONSE_EDGES,
    SUM_FIELDS,
    MonthlyRollup,
    RollupState,
    figure_sums_sql,
)
from reporting.periods import Period
from tenants.models import Region, Tenant

# A rollup older than this is shown as late.
LATE_AFTER = dt.timedelta(minutes=30)
# Cached page figures live at most this long; a rollup landing replaces them sooner.
CACHE_SECONDS = 600
SORTS = ("within_10_share", "ack_share", "arrive_share", "calls", "incidents")


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


ADDITIVE = (*COUNT_FIELDS, *SUM_FIELDS)

# Every live Pemda in scope with its window row if that row covers the asked period
# (NULL figures otherwise: reporting.models.WindowRollup).
WINDOW_SQL = """
SELECT t.id, r.code, r.name, r.parent_id, w.id IS NOT NULL AS has_window,
  """ + ", ".join(f"w.{f}" for f in (*ADDITIVE, *HIST_FIELDS)) + """
FROM tenants_tenant t
JOIN tenants_region r ON r.code = t.region_id
LEFT JOIN reporting_windowrollup w ON w.tenant_id = t.id AND w.start = %(start)s
  AND w."end" = %(end)s
WHERE t.status = 'live' AND NOT t.is_template AND (%(province)s = '' OR r.parent_id = %(province)s)
"""

# The same figures summed from the daily rows, for the Pemda whose window row does
# not cover the period (any period but the default one, or before the day's first
# rollup): one scan of their rows in the period.
DAYS_SQL = """
SELECT d.tenant_id, """ + figure_sums_sql("d") + """
FROM reporting_dailyrollup d
WHERE d.tenant_id = ANY(%(tenants)s) AND d.day BETWEEN %(start)s AND %(end)s
GROUP BY d.tenant_id
"""


@dataclass(frozen=True)
class Place:
    """What a league row shows of its Pemda's region (no model instance per row)."""

    code: str
    name: str
    parent: Region | None

    @property
    def short_name(self) -> str:
        if self.name.startswith("Kabupaten "):
            return "Kab. " + self.name.removeprefix("Kabupaten ")
        return self.name


def _zero() -> dict[str, Any]:
    return {**{f: 0 for f in COUNT_FIELDS}, **{f: 0.0 for f in SUM_FIELDS},
            **{h: [0] * BUCKETS for h in HIST_FIELDS}}


def _add(total: dict[str, Any], figures: Mapping[str, Any]) -> None:
    for f in ADDITIVE:
        total[f] += figures[f]
    for h in HIST_FIELDS:
        total[h] = [a + b for a, b in zip(total[h], figures[h], strict=True)]


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _with_medians(sums: dict[str, Any]) -> dict[str, Any]:
    figures = derive({f: sums[f] for f in ADDITIVE})
    figures["answer_median"] = histogram_median(sums["answer_hist"], ANSWER_EDGES)
    figures["ack_median"] = histogram_median(sums["ack_hist"], RESPONSE_EDGES)
    figures["arrive_median"] = histogram_median(sums["arrive_hist"], RESPONSE_EDGES)
    figures["histograms"] = {h: sums[h] for h in HIST_FIELDS}
    return figures


@dataclass
class Figures:
    """A scope's (the nation's or one province's) figures over a period."""

    totals: dict[str, Any]
    league: list[dict[str, Any]]
    provinces: list[dict[str, Any]]


def figures(period: Period, province: str = "", sort: str = "within_10_share") -> Figures:
    """Totals, league (one row per live Pemda in scope, those without rows included)
    and per-province rows, all from one set of per-Pemda sums: the window rows where
    they cover the period, the daily rows for the rest. Provinces and totals are
    sums of the league rows, so they agree with it by construction."""
    params = {"start": period.start, "end": period.end, "province": province}
    tenants = _fetch(WINDOW_SQL, params)
    missing = [t["id"] for t in tenants if not t["has_window"]]
    from_days = {r.pop("tenant_id"): r for r in _fetch(DAYS_SQL, {**params, "tenants": missing})
                 } if missing else {}
    regions = {r.code: r for r in Region.objects.filter(kind=Region.Kind.PROVINCE)}
    per_province: dict[str, dict[str, Any]] = {}
    live: Counter[str] = Counter()
    league_rows = []
    for tenant in tenants:
        sums = tenant if tenant["has_window"] else from_days.get(tenant["id"], _zero())
        code = tenant["parent_id"]
        live[code] += 1
        if code not in per_province:
            per_province[code] = _zero()
        _add(per_province[code], sums)
        league_rows.append({"region": Place(tenant["code"], tenant["name"], regions.get(code)),
                            **derive({f: sums[f] for f in ADDITIVE})})
    total = _zero()
    for sums in per_province.values():
        _add(total, sums)
    key = sort if sort in SORTS else "within_10_share"
    league_rows.sort(key=lambda r: (r[key] is None, -(r[key] or 0), r["region"].name))
    for rank, row in enumerate(league_rows, start=1):
        row["rank"] = rank
    province_rows = [
        {"region": region, "live": live[code], **derive({f: per_province[code][f]
                                                        for f in ADDITIVE})}
        for code, region in sorted(regions.items(), key=lambda item: item[1].name)
        if code in per_province
    ]
    return Figures(totals=_with_medians(total), league=league_rows, provinces=province_rows)


def totals(period: Period, province: str = "") -> dict[str, Any]:
    """Sums, shares and (approximate) medians over all live Pemda in scope."""
    return figures(period, province).totals


def league(period: Period, province: str = "", sort: str = "within_10_share") -> list[dict]:
    """One row per live Pemda in scope (Pemda without rows in the period included)."""
    return figures(period, province, sort).league


def provinces(period: Period) -> list[dict[str, Any]]:
    return figures(period).provinces


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
    agg = RollupState.objects.filter(tenant__in=tenants).aggregate(
        oldest=Min("last_success_at"), newest=Max("last_success_at"),
        succeeded=Count("pk", filter=Q(last_success_at__isnull=False)),
        failing=Count("pk", filter=~Q(last_error="")),
    )
    total = tenants.count()
    return Freshness(
        oldest_success=agg["oldest"],
        newest_success=agg["newest"],
        failing=agg["failing"],
        never=total - agg["succeeded"],
        tenants=total,
    )


# Changes whenever a rollup run starts, lands or fails anywhere, or the set of live
# Pemda changes: what the national figures are made of.
VERSION_SQL = """
SELECT count(t.id), coalesce(sum(t.id), 0), min(s.last_attempt_at), max(s.last_attempt_at),
  min(s.last_success_at), max(s.last_success_at), count(s.tenant_id) FILTER (
    WHERE s.last_error <> '')
FROM tenants_tenant t LEFT JOIN reporting_rollupstate s ON s.tenant_id = t.id
WHERE t.status = 'live' AND NOT t.is_template AND t.region_id IS NOT NULL
"""


def rollup_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        return hashlib.sha256(repr(cursor.fetchone()).encode()).hexdigest()[:20]


@dataclass
class Page:
    figures: Figures
    trend: list[dict[str, Any]]
    fresh: Freshness


def page(period: Period, province: str = "", sort: str = "within_10_share") -> Page:
    """What a national or provincial page shows, cached under the rollup version:
    the rollups are the only source and the page shows their age, so figures
    summed once stay right until the next rollup run (every 10 minutes) changes
    the version. The age itself is worked out when the page renders."""
    sort = sort if sort in SORTS else "within_10_share"
    key = (f"reporting:national:{rollup_version()}:{province or '-'}:{period.start}:"
           f"{period.end}:{sort}")
    found = cache.get(key)
    if found is None:
        found = Page(figures=figures(period, province, sort),
                     trend=monthly(period.end, 12, province), fresh=freshness(province))
        cache.set(key, found, CACHE_SECONDS)
    return found
