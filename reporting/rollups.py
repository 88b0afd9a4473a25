"""Incremental rollups: a Pemda's additive KPI parts per local day, written into
the public schema (reporting.models.DailyRollup).

Incremental: each run recomputes only the local days that something happened to
since the last run's watermark (a call rang, was answered or ended; an incident
was created or closed; a dispatch was sent or moved on or one of its two targets,
acknowledgement or arrival, passed: each moves a "due" count on its own), plus
the incident days whose answer-to-dispatch those dispatches change. A full refresh
(every day that has rows) runs nightly and on a tenant's first run, to pick up
what carries no timestamp (a call attached to an incident later, a row edited by
hand). The same definitions as reporting.kpis: test data never counts.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from reporting.kpis import CALL_COUNT_COLUMNS
from reporting.models import (
    ANSWER_EDGES,
    BUCKETS,
    COUNT_FIELDS,
    HIST_FIELDS,
    RESPONSE_EDGES,
    SUM_FIELDS,
    WINDOW_DAYS,
    WINDOW_ZONE,
    DailyRollup,
    MonthlyRollup,
    RollupState,
    figure_sums_sql,
)
from tenants.models import Tenant

logger = logging.getLogger(__name__)

# Overlap between runs: a change committed while the previous run was reading,
# with a timestamp just before its watermark, is still picked up.
OVERLAP = dt.timedelta(minutes=5)

TOUCHED_DAYS_SQL = """
SELECT (ringing_at AT TIME ZONE %(tz)s)::date FROM incidents_call
WHERE ringing_at >= %(wm)s - interval '1 day'
  AND (ringing_at >= %(wm)s OR answered_at >= %(wm)s OR ended_at >= %(wm)s)
UNION
SELECT (created_at AT TIME ZONE %(tz)s)::date FROM incidents_incident
WHERE created_at >= %(wm)s OR closed_at >= %(wm)s
UNION
SELECT (d.dispatched_at AT TIME ZONE %(tz)s)::date
FROM incidents_dispatch d
JOIN incidents_incident i ON i.id = d.incident_id
JOIN incidents_category c ON c.id = i.category_id
WHERE d.dispatched_at >= %(wm)s OR d.acknowledged_at >= %(wm)s OR d.arrived_at >= %(wm)s
   OR d.resolved_at >= %(wm)s OR d.cancelled_at >= %(wm)s
   OR d.dispatched_at + make_interval(mins => c.ack_target_minutes) BETWEEN %(wm)s AND %(now)s
   OR d.dispatched_at + make_interval(mins => c.arrive_target_minutes)
        BETWEEN %(wm)s AND %(now)s
UNION
SELECT (i.created_at AT TIME ZONE %(tz)s)::date
FROM incidents_dispatch d JOIN incidents_incident i ON i.id = d.incident_id
WHERE d.dispatched_at >= %(wm)s
"""

ALL_DAYS_SQL = """
SELECT (ringing_at AT TIME ZONE %(tz)s)::date FROM incidents_call
UNION SELECT (created_at AT TIME ZONE %(tz)s)::date FROM incidents_incident
UNION SELECT (dispatched_at AT TIME ZONE %(tz)s)::date FROM incidents_dispatch
"""

DAY_CALLS_SQL = """
SELECT (ringing_at AT TIME ZONE %(tz)s)::date AS day,
""" + CALL_COUNT_COLUMNS.lstrip("\n") + """\
  coalesce(sum(extract(epoch FROM answered_at - ringing_at)) FILTER (WHERE NOT blocked), 0)
    AS answer_sum
FROM incidents_call
WHERE NOT is_test AND ringing_at >= %(since)s AND ringing_at < %(until)s
GROUP BY 1
"""

DAY_ANSWER_HIST_SQL = """
SELECT (ringing_at AT TIME ZONE %(tz)s)::date AS day,
  width_bucket(extract(epoch FROM answered_at - ringing_at)::float8, %(edges)s) AS bucket,
  count(*) AS n
FROM incidents_call
WHERE NOT is_test AND NOT blocked AND answered_at IS NOT NULL
  AND ringing_at >= %(since)s AND ringing_at < %(until)s
GROUP BY 1, 2
"""

DAY_INCIDENTS_SQL = """
SELECT (i.created_at AT TIME ZONE %(tz)s)::date AS day,
  count(*) AS incidents,
  count(*) FILTER (WHERE i.closed_at IS NOT NULL) AS incidents_closed,
  count(*) FILTER (WHERE fa.at IS NOT NULL AND fd.at IS NOT NULL) AS a2d_count,
  coalesce(sum(extract(epoch FROM fd.at - fa.at)), 0) AS a2d_sum
FROM incidents_incident i
CROSS JOIN LATERAL (
  SELECT min(c.answered_at) AS at FROM incidents_call c
  WHERE c.incident_id = i.id AND c.answered_at IS NOT NULL AND NOT c.is_test
) fa
CROSS JOIN LATERAL (
  SELECT min(d.dispatched_at) AS at FROM incidents_dispatch d WHERE d.incident_id = i.id
) fd
WHERE NOT i.is_test AND i.created_at >= %(since)s AND i.created_at < %(until)s
GROUP BY 1
"""

DAY_DISPATCH_SQL = """
SELECT (d.dispatched_at AT TIME ZONE %(tz)s)::date AS day,
  count(*) AS dispatches,
  count(*) FILTER (WHERE d.acknowledged_at <= d.dispatched_at
                   + make_interval(mins => c.ack_target_minutes)) AS ack_ok,
  count(*) FILTER (WHERE d.acknowledged_at IS NOT NULL OR d.dispatched_at
                   + make_interval(mins => c.ack_target_minutes) < %(now)s) AS ack_due,
  count(d.acknowledged_at) AS ack_count,
  coalesce(sum(extract(epoch FROM d.acknowledged_at - d.dispatched_at)), 0) AS ack_sum,
  count(*) FILTER (WHERE d.arrived_at <= d.dispatched_at
                   + make_interval(mins => c.arrive_target_minutes)) AS arrive_ok,
  count(*) FILTER (WHERE d.arrived_at IS NOT NULL OR d.dispatched_at
                   + make_interval(mins => c.arrive_target_minutes) < %(now)s) AS arrive_due,
  count(d.arrived_at) AS arrive_count,
  coalesce(sum(extract(epoch FROM d.arrived_at - d.dispatched_at)), 0) AS arrive_sum,
  count(d.resolved_at) AS resolved,
  coalesce(sum(extract(epoch FROM d.resolved_at - d.dispatched_at)), 0) AS resolve_sum
FROM incidents_dispatch d
JOIN incidents_incident i ON i.id = d.incident_id
JOIN incidents_category c ON c.id = i.category_id
WHERE NOT i.is_test AND d.status <> 'cancelled'
  AND d.dispatched_at >= %(since)s AND d.dispatched_at < %(until)s
GROUP BY 1
"""

DAY_RESPONSE_HIST_SQL = """
SELECT (d.dispatched_at AT TIME ZONE %(tz)s)::date AS day,
  width_bucket(extract(epoch FROM d.acknowledged_at - d.dispatched_at)::float8, %(edges)s)
    AS ack_bucket,
  width_bucket(extract(epoch FROM d.arrived_at - d.dispatched_at)::float8, %(edges)s)
    AS arrive_bucket,
  count(*) AS n
FROM incidents_dispatch d
JOIN incidents_incident i ON i.id = d.incident_id
WHERE NOT i.is_test AND d.status <> 'cancelled'
  AND d.dispatched_at >= %(since)s AND d.dispatched_at < %(until)s
GROUP BY 1, 2, 3
"""


def _fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _days(sql: str, params: dict[str, Any]) -> set[dt.date]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall() if row[0] is not None}


def _ranges(days: set[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive runs of days, so each query reads one index range per run."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + dt.timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def day_figures(days: set[dt.date], tz: str, now: dt.datetime) -> dict[dt.date, dict[str, Any]]:
    """The additive figures of each of `days` in the current (tenant) schema.
    Days with nothing in them come back with zeros."""
    import zoneinfo

    zone = zoneinfo.ZoneInfo(tz)
    out: dict[dt.date, dict[str, Any]] = {
        d: {**{f: 0 for f in COUNT_FIELDS}, **{f: 0.0 for f in SUM_FIELDS},
            **{f: [0] * BUCKETS for f in HIST_FIELDS}}
        for d in days
    }
    for first, last in _ranges(days):
        params = {
            "tz": tz, "now": now,
            "since": dt.datetime.combine(first, dt.time(), tzinfo=zone),
            "until": dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone),
        }
        for sql in (DAY_CALLS_SQL, DAY_INCIDENTS_SQL, DAY_DISPATCH_SQL):
            for row in _fetch(sql, params):
                day = row.pop("day")
                if day in out:
                    out[day].update({k: (float(v) if k in SUM_FIELDS else v)
                                     for k, v in row.items()})
        for row in _fetch(DAY_ANSWER_HIST_SQL, {**params, "edges": list(ANSWER_EDGES)}):
            if row["day"] in out:
                out[row["day"]]["answer_hist"][row["bucket"]] += row["n"]
        for row in _fetch(DAY_RESPONSE_HIST_SQL, {**params, "edges": list(RESPONSE_EDGES)}):
            if row["day"] not in out:
                continue
            figures = out[row["day"]]
            if row["ack_bucket"] is not None:
                figures["ack_hist"][row["ack_bucket"]] += row["n"]
            if row["arrive_bucket"] is not None:
                figures["arrive_hist"][row["arrive_bucket"]] += row["n"]
    return out


def _is_empty(figures: dict[str, Any]) -> bool:
    return not any(figures[f] for f in COUNT_FIELDS)


def rollup_tenant(tenant: Tenant, *, full: bool = False, now: dt.datetime | None = None) -> int:
    """Refresh the tenant's rollup rows; returns how many days were recomputed.
    Records success or failure in RollupState either way (the pages show its age)."""
    started = now or timezone.now()
    region = tenant.region
    if region is None:
        return 0
    tz = region.timezone
    state, _created = RollupState.objects.get_or_create(tenant=tenant)
    state.last_attempt_at = started
    state.save(update_fields=["last_attempt_at"])
    try:
        with schema_context(tenant.schema_name):
            if full or state.watermark is None:
                days = _days(ALL_DAYS_SQL, {"tz": tz})
            else:
                days = _days(TOUCHED_DAYS_SQL, {"tz": tz, "wm": state.watermark, "now": started})
            figures = day_figures(days, tz, started)
        if full or state.watermark is None:
            # Rows of days that no longer have anything (data deleted) go too.
            days |= set(DailyRollup.objects.filter(tenant=tenant).values_list("day", flat=True))
        keep = {d: f for d, f in figures.items() if not _is_empty(f)}
        computed = timezone.now()
        with transaction.atomic():
            DailyRollup.objects.filter(tenant=tenant, day__in=days - set(keep)).delete()
            DailyRollup.objects.bulk_create(
                [
                    DailyRollup(tenant=tenant, region_id=region.code,
                                province_code=region.parent_id or "", day=d,
                                computed_at=computed, **f)
                    for d, f in keep.items()
                ],
                update_conflicts=True,
                unique_fields=["tenant", "day"],
                update_fields=[*COUNT_FIELDS, *SUM_FIELDS, *HIST_FIELDS, "computed_at"],
                batch_size=500,
            )
            months_refresh(tenant, {d.replace(day=1) for d in days})
            window_refresh(tenant, started, computed)
            state.watermark = started - OVERLAP
            state.last_success_at = computed
            state.last_error = ""
            state.days_refreshed = len(days)
            state.save()
    except Exception as exc:
        RollupState.objects.filter(pk=state.pk).update(last_error=repr(exc)[:2000])
        logger.exception("reporting.rollup_failed", extra={"schema": tenant.schema_name})
        raise
    return len(days)


def months_refresh(tenant: Tenant, months: set[dt.date]) -> None:
    """Rewrite the tenant's monthly rows of `months` as the sums of its daily rows."""
    if not months:
        return
    region = tenant.region
    assert region is not None
    sums: dict[dt.date, dict[str, Any]] = {}
    days = DailyRollup.objects.filter(tenant=tenant, day__gte=min(months),
                                      day__lt=max(months) + dt.timedelta(days=32))
    for row in days.values("day", *COUNT_FIELDS, *SUM_FIELDS, *HIST_FIELDS):
        month = row.pop("day").replace(day=1)
        if month not in months:
            continue
        total = sums.setdefault(month, {**{f: 0 for f in COUNT_FIELDS},
                                        **{f: 0.0 for f in SUM_FIELDS},
                                        **{f: [0] * BUCKETS for f in HIST_FIELDS}})
        for key, value in row.items():
            if key in HIST_FIELDS:
                total[key] = [a + b for a, b in zip(total[key], value, strict=True)]
            else:
                total[key] += value
    MonthlyRollup.objects.filter(tenant=tenant, month__in=months).delete()
    MonthlyRollup.objects.bulk_create([
        MonthlyRollup(tenant=tenant, region_id=region.code, province_code=region.parent_id or "",
                      month=month, **figures)
        for month, figures in sums.items()
    ])


WINDOW_SQL = """
INSERT INTO reporting_windowrollup (tenant_id, region_id, province_code, start, "end",
  computed_at, """ + ", ".join((*COUNT_FIELDS, *SUM_FIELDS, *HIST_FIELDS)) + """)
SELECT %(tenant)s, %(region)s, %(province)s, %(start)s, %(end)s, %(computed)s,
  """ + figure_sums_sql("d") + """
FROM reporting_dailyrollup d
WHERE d.tenant_id = %(tenant)s AND d.day BETWEEN %(start)s AND %(end)s
ON CONFLICT (tenant_id) DO UPDATE SET """ + ", ".join(
    f'"{f}" = EXCLUDED."{f}"' for f in ("region_id", "province_code", "start", "end",
                                        "computed_at", *COUNT_FIELDS, *SUM_FIELDS, *HIST_FIELDS))


def window_refresh(tenant: Tenant, now: dt.datetime, computed: dt.datetime) -> None:
    """Rewrite the tenant's WindowRollup as the sum of its daily rows of the
    national pages' default period as of `now` (about 30 rows: cheaper to redo on
    every run than to work out whether the window moved or a day in it changed)."""
    import zoneinfo

    region = tenant.region
    assert region is not None
    end = now.astimezone(zoneinfo.ZoneInfo(WINDOW_ZONE)).date()
    with connection.cursor() as cursor:
        cursor.execute(WINDOW_SQL, {
            "tenant": tenant.pk, "region": region.code, "province": region.parent_id or "",
            "start": end - dt.timedelta(days=WINDOW_DAYS - 1), "end": end,
            "computed": computed,
        })


def live_tenants() -> Any:
    from tenants.selectors import pemda_tenants

    return pemda_tenants().filter(status=Tenant.Status.LIVE).order_by("schema_name")


def rollup_all(*, full: bool = False, now: dt.datetime | None = None) -> dict[str, int]:
    """Every live Pemda, one after the other; one failing does not stop the rest.
    `now`: the instant the figures are as of ("due" counts move with the clock)."""
    done: dict[str, int] = {}
    for tenant in live_tenants():
        try:
            done[tenant.schema_name] = rollup_tenant(tenant, full=full, now=now)
        except Exception:  # noqa: BLE001 - recorded in RollupState, shown on the pages
            done[tenant.schema_name] = -1
    return done
