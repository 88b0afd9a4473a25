"""Key figures of one Pemda's 112 center, computed in SQL from the timestamps the
operations already record (incidents.models). Run inside the tenant's schema.

Rules every figure follows, so they agree wherever they are shown:
- Test data never counts: calls and incidents with is_test (the trial stage, or a
  test marked by hand), and every dispatch of a test incident.
- A call belongs to the local day it rang, an incident to the day it was created,
  a dispatch to the day it was sent; days are the Pemda's own (WIB/WITA/WIT).
- Answer time is ring -> answer. "Offered" calls are the non-test calls that were
  not auto-rejected as blocked numbers; the 10 s / 20 s service level is answered
  within that time over offered (a missed call counts against it).
- Acknowledgement / arrival are measured from the dispatch, against the incident
  category's targets. A dispatch counts towards "share within target" once it is
  decided: it has the timestamp, or its target has passed without it. Cancelled
  dispatches are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.functions import ExtractHour
from django.utils import timezone

from incidents.models import Incident
from reporting.periods import Period

PRANK_TYPES = ("prank", "ghost")

# The call counts, defined once: the per-Pemda page and the daily rollups behind the
# national figures must count a call the same way, or the two would disagree.
CALL_COUNT_COLUMNS = """
  count(*) AS calls,
  count(*) FILTER (WHERE blocked) AS blocked,
  count(*) FILTER (WHERE NOT blocked) AS offered,
  count(*) FILTER (WHERE NOT blocked AND answered_at IS NOT NULL) AS answered,
  count(*) FILTER (WHERE state = 'missed') AS missed,
  count(*) FILTER (WHERE call_type IN ('prank', 'ghost')) AS prank_ghost,
  count(*) FILTER (WHERE NOT blocked AND answered_at <= ringing_at + interval '10 seconds')
    AS within_10,
  count(*) FILTER (WHERE NOT blocked AND answered_at <= ringing_at + interval '20 seconds')
    AS within_20,
"""

CALL_SUMMARY_SQL = """
SELECT
""" + CALL_COUNT_COLUMNS.lstrip("\n") + """\
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - ringing_at))
    FILTER (WHERE NOT blocked) AS answer_p50,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM answered_at - ringing_at))
    FILTER (WHERE NOT blocked) AS answer_p90
FROM incidents_call
WHERE NOT is_test AND ringing_at >= %(since)s AND ringing_at < %(until)s
"""

CALLS_PER_DAY_SQL = """
SELECT (ringing_at AT TIME ZONE %(tz)s)::date AS day, call_type, count(*)
FROM incidents_call
WHERE NOT is_test AND ringing_at >= %(since)s AND ringing_at < %(until)s
GROUP BY 1, 2
ORDER BY 1, 2
"""

CALLS_PER_HOUR_SQL = """
SELECT extract(hour FROM ringing_at AT TIME ZONE %(tz)s)::int AS hour, count(*)
FROM incidents_call
WHERE NOT is_test AND ringing_at >= %(since)s AND ringing_at < %(until)s
GROUP BY 1
"""

# Per incident: its first answered call to its first dispatch.
ANSWER_TO_DISPATCH_SQL = """
SELECT
  count(*) AS incidents,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY secs) AS p50,
  percentile_cont(0.9) WITHIN GROUP (ORDER BY secs) AS p90
FROM (
  SELECT extract(epoch FROM fd.at - fa.at) AS secs
  FROM incidents_incident i
  CROSS JOIN LATERAL (
    SELECT min(c.answered_at) AS at FROM incidents_call c
    WHERE c.incident_id = i.id AND c.answered_at IS NOT NULL AND NOT c.is_test
  ) fa
  CROSS JOIN LATERAL (
    SELECT min(d.dispatched_at) AS at FROM incidents_dispatch d WHERE d.incident_id = i.id
  ) fd
  WHERE NOT i.is_test AND i.created_at >= %(since)s AND i.created_at < %(until)s
    AND fa.at IS NOT NULL AND fd.at IS NOT NULL
) s
"""

# One statement for both breakdowns: %(by)s picks the agency or the category.
RESPONSE_SQL = """
SELECT
  CASE WHEN %(by)s = 'agency' THEN a.code ELSE c.code END AS key,
  CASE WHEN %(by)s = 'agency' THEN a.name ELSE c.name END AS name,
  count(*) AS dispatches,
  count(*) FILTER (WHERE d.acknowledged_at <= d.dispatched_at
                   + make_interval(mins => c.ack_target_minutes)) AS ack_ok,
  count(*) FILTER (WHERE d.acknowledged_at IS NOT NULL OR d.dispatched_at
                   + make_interval(mins => c.ack_target_minutes) < %(now)s) AS ack_due,
  percentile_cont(0.5) WITHIN GROUP (
    ORDER BY extract(epoch FROM d.acknowledged_at - d.dispatched_at)) AS ack_p50,
  percentile_cont(0.9) WITHIN GROUP (
    ORDER BY extract(epoch FROM d.acknowledged_at - d.dispatched_at)) AS ack_p90,
  count(*) FILTER (WHERE d.arrived_at <= d.dispatched_at
                   + make_interval(mins => c.arrive_target_minutes)) AS arrive_ok,
  count(*) FILTER (WHERE d.arrived_at IS NOT NULL OR d.dispatched_at
                   + make_interval(mins => c.arrive_target_minutes) < %(now)s) AS arrive_due,
  percentile_cont(0.5) WITHIN GROUP (
    ORDER BY extract(epoch FROM d.arrived_at - d.dispatched_at)) AS arrive_p50,
  percentile_cont(0.9) WITHIN GROUP (
    ORDER BY extract(epoch FROM d.arrived_at - d.dispatched_at)) AS arrive_p90,
  count(d.resolved_at) AS resolved,
  percentile_cont(0.5) WITHIN GROUP (
    ORDER BY extract(epoch FROM d.resolved_at - d.dispatched_at)) AS resolve_p50,
  percentile_cont(0.9) WITHIN GROUP (
    ORDER BY extract(epoch FROM d.resolved_at - d.dispatched_at)) AS resolve_p90
FROM incidents_dispatch d
JOIN incidents_incident i ON i.id = d.incident_id
JOIN incidents_category c ON c.id = i.category_id
JOIN incidents_agency a ON a.id = d.agency_id
WHERE NOT i.is_test AND d.status <> 'cancelled'
  AND d.dispatched_at >= %(since)s AND d.dispatched_at < %(until)s
GROUP BY 1, 2
ORDER BY 2
"""

INCIDENTS_BY_CATEGORY_SQL = """
SELECT c.code, c.name, c.name_en, count(*)
FROM incidents_incident i JOIN incidents_category c ON c.id = i.category_id
WHERE NOT i.is_test AND i.created_at >= %(since)s AND i.created_at < %(until)s
GROUP BY 1, 2, 3
ORDER BY 4 DESC, 2
"""

INCIDENTS_BY_KECAMATAN_SQL = """
SELECT kecamatan, count(*)
FROM incidents_incident
WHERE NOT is_test AND created_at >= %(since)s AND created_at < %(until)s
GROUP BY 1
ORDER BY 2 DESC, 1
"""

INCIDENTS_BY_HOUR_SQL = """
SELECT extract(hour FROM created_at AT TIME ZONE %(tz)s)::int AS hour, count(*)
FROM incidents_incident
WHERE NOT is_test AND created_at >= %(since)s AND created_at < %(until)s
GROUP BY 1
"""

INCIDENTS_PER_DAY_SQL = """
SELECT (created_at AT TIME ZONE %(tz)s)::date AS day, count(*),
       count(*) FILTER (WHERE closed_at IS NOT NULL) AS closed
FROM incidents_incident
WHERE NOT is_test AND created_at >= %(since)s AND created_at < %(until)s
GROUP BY 1
ORDER BY 1
"""

MONTHLY_SQL = """
SELECT m.month::date AS month,
  (SELECT count(*) FROM incidents_incident i WHERE NOT i.is_test
     AND i.created_at >= m.month AT TIME ZONE %(tz)s
     AND i.created_at < (m.month + interval '1 month') AT TIME ZONE %(tz)s) AS incidents,
  (SELECT count(*) FROM incidents_call c WHERE NOT c.is_test
     AND c.ringing_at >= m.month AT TIME ZONE %(tz)s
     AND c.ringing_at < (m.month + interval '1 month') AT TIME ZONE %(tz)s) AS calls
FROM generate_series(%(first)s::timestamp, %(last)s::timestamp, interval '1 month') AS m(month)
ORDER BY 1
"""


def share(part: int | None, whole: int | None) -> float | None:
    """Percentage with one decimal, None when there is nothing to divide."""
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 1)


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def _params(period: Period, **extra: Any) -> dict[str, Any]:
    return {"since": period.since, "until": period.until, "tz": period.tz, **extra}


def _rows(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass
class TenantKpis:
    period: Period
    calls: dict[str, Any]
    calls_per_day: list[dict[str, Any]]
    call_types: list[str]
    calls_by_hour: list[int]
    busiest_hours: list[tuple[int, int]]
    answer_to_dispatch: dict[str, Any]
    by_agency: list[dict[str, Any]]
    by_category_response: list[dict[str, Any]]
    incidents_by_category: list[dict[str, Any]]
    incidents_by_kecamatan: list[dict[str, Any]]
    incidents_by_hour: list[int]
    incidents_per_day: list[dict[str, Any]]
    incidents_total: int = 0
    computed_at: dt.datetime = field(default_factory=timezone.now)


def call_summary(period: Period) -> dict[str, Any]:
    (row,) = _rows(CALL_SUMMARY_SQL, _params(period))
    row["answer_p50"] = _seconds(row["answer_p50"])
    row["answer_p90"] = _seconds(row["answer_p90"])
    row["prank_share"] = share(row["prank_ghost"], row["calls"])
    row["within_10_share"] = share(row["within_10"], row["offered"])
    row["within_20_share"] = share(row["within_20"], row["offered"])
    return row


def calls_per_day(period: Period) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per local day of the period (zeros included), a column per call type."""
    found = _rows(CALLS_PER_DAY_SQL, _params(period))
    types = sorted({r["call_type"] or "unclassified" for r in found})
    days: dict[dt.date, dict[str, Any]] = {
        d: {"day": d, "total": 0, **{t: 0 for t in types}} for d in period.day_list()
    }
    for r in found:
        row = days.get(r["day"])
        if row is None:
            continue
        row[r["call_type"] or "unclassified"] += r["count"]
        row["total"] += r["count"]
    return list(days.values()), types


def _by_hour(sql: str, period: Period) -> list[int]:
    hours = [0] * 24
    for r in _rows(sql, _params(period)):
        hours[r["hour"]] = r["count"]
    return hours


def answer_to_dispatch(period: Period) -> dict[str, Any]:
    (row,) = _rows(ANSWER_TO_DISPATCH_SQL, _params(period))
    return {"incidents": row["incidents"], "p50": _seconds(row["p50"]),
            "p90": _seconds(row["p90"])}


def response_times(period: Period, by: str, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Acknowledgement, arrival and resolution per OPD (by="agency") or per category."""
    if by not in ("agency", "category"):
        raise ValueError(by)
    rows = _rows(RESPONSE_SQL, _params(period, by=by, now=now or timezone.now()))
    for r in rows:
        for key in ("ack_p50", "ack_p90", "arrive_p50", "arrive_p90", "resolve_p50",
                    "resolve_p90"):
            r[key] = _seconds(r[key])
        r["ack_share"] = share(r["ack_ok"], r["ack_due"])
        r["arrive_share"] = share(r["arrive_ok"], r["arrive_due"])
    return rows


def incidents_by_category(period: Period) -> list[dict[str, Any]]:
    return _rows(INCIDENTS_BY_CATEGORY_SQL, _params(period))


def incidents_by_kecamatan(period: Period) -> list[dict[str, Any]]:
    return _rows(INCIDENTS_BY_KECAMATAN_SQL, _params(period))


def incidents_per_day(period: Period) -> list[dict[str, Any]]:
    found = {r["day"]: r for r in _rows(INCIDENTS_PER_DAY_SQL, _params(period))}
    return [
        {"day": d, "count": found[d]["count"] if d in found else 0,
         "closed": found[d]["closed"] if d in found else 0}
        for d in period.day_list()
    ]


def busiest(hours: list[int], top: int = 3) -> list[tuple[int, int]]:
    """The `top` hours of the day with the most calls (ties: the earlier hour)."""
    ranked = sorted(((n, -h) for h, n in enumerate(hours) if n), reverse=True)[:top]
    return [(-h, n) for n, h in ranked]


def monthly_trend(period: Period, months: int = 12) -> list[dict[str, Any]]:
    """Incidents and calls per local calendar month, the `months` up to the period's end."""
    last = period.end.replace(day=1)
    first = last
    for _ in range(months - 1):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return _rows(MONTHLY_SQL, {"tz": period.tz, "first": first, "last": last})


def tenant_kpis(period: Period, now: dt.datetime | None = None) -> TenantKpis:
    per_day, types = calls_per_day(period)
    calls_by_hour = _by_hour(CALLS_PER_HOUR_SQL, period)
    by_category = incidents_by_category(period)
    return TenantKpis(
        period=period,
        calls=call_summary(period),
        calls_per_day=per_day,
        call_types=types,
        calls_by_hour=calls_by_hour,
        busiest_hours=busiest(calls_by_hour),
        answer_to_dispatch=answer_to_dispatch(period),
        by_agency=response_times(period, "agency", now),
        by_category_response=response_times(period, "category", now),
        incidents_by_category=by_category,
        incidents_by_kecamatan=incidents_by_kecamatan(period),
        incidents_by_hour=_by_hour(INCIDENTS_BY_HOUR_SQL, period),
        incidents_per_day=incidents_per_day(period),
        incidents_total=sum(r["count"] for r in by_category),
    )


def incidents_behind(
    period: Period,
    *,
    category: str = "",
    kecamatan: str | None = None,
    hour: int | None = None,
    day: dt.date | None = None,
) -> QuerySet[Incident]:
    """The incidents a figure counts (drill-down), with the same rules as the SQL."""
    query = Incident.objects.filter(
        is_test=False, created_at__gte=period.since, created_at__lt=period.until
    ).select_related("category")
    if category:
        query = query.filter(category__code=category)
    if kecamatan is not None:
        query = query.filter(kecamatan=kecamatan)
    if hour is not None:
        query = query.annotate(local_hour=ExtractHour("created_at", tzinfo=period.zone)).filter(
            local_hour=hour
        )
    if day is not None:
        one = Period(day, day, period.tz)
        query = query.filter(created_at__gte=one.since, created_at__lt=one.until)
    return query.order_by("-created_at")
