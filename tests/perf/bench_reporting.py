"""Benchmark: the national KPI page and one Pemda's month dashboard, over 514 live
tenants holding 5 million incidents between them (plus their calls and
dispatches), in a throwaway database (`siaga112_bench_reporting`, dropped after).

Data is made in SQL with generate_series, straight into each tenant schema, then
rolled up by the real incremental rollup (full refresh), as production would.
Prints p95 of: the pages through Django (test client, template included), the
figures functions alone, and the core SQL alone (the raw reference). Budget: each
page p95 < 300 ms. Asserts nothing about time.

    .venv/bin/python -m tests.perf.bench_reporting [--tenants 514] [--incidents 5000000]

Building the data takes most of the ~15 minutes; `--keep` leaves the database in
place and `--reuse` measures the kept one again without rebuilding (migrations
added since are applied, the rollups refreshed incrementally). Drop it with
`--drop` (or a last run without `--keep`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from tests.perf.benchdb import bench_database

# Every NOT NULL column without a database default is given; times are spread
# over the last 365 days, at hours weighted by the sine of the hour.
INCIDENTS_SQL = """
INSERT INTO incidents_incident (reference, category_id, priority, status, address, kecamatan,
  kelurahan, outside_area, description, caller, is_test, idempotency_key, created_at, closed_at,
  latitude, longitude)
SELECT 'B-' || g, (%(cats)s::bigint[])[1 + g %% array_length(%(cats)s::bigint[], 1)], 2,
  'closed', '', 'Kecamatan ' || (g %% 17), '', false, 'bench', '', (g %% 50 = 0),
  'bench-' || g, t, t + interval '2 hours', -7.45 + (g %% 100) / 1000.0, 112.7
FROM generate_series(1, %(k)s) AS g,
  LATERAL (SELECT now() - (g %% 365) * interval '1 day'
                  - ((g * 7919) %% 86400) * interval '1 second' AS t) AS x
"""

CALLS_SQL = """
INSERT INTO incidents_call (external_id, caller, trunk, state, call_type, ringing_at,
  answered_at, ended_at, is_test, blocked, aml_source, incident_id)
SELECT 'c-' || i.id, '+6281200000000', '', 'ended', 'emergency', i.created_at - interval '2 min',
  i.created_at - interval '2 min' + (1 + i.id %% 35) * interval '1 second',
  i.created_at, i.is_test, false, '', i.id
FROM incidents_incident i;
INSERT INTO incidents_call (external_id, caller, trunk, state, call_type, ringing_at,
  answered_at, ended_at, is_test, blocked, aml_source)
SELECT 'x-' || g, '+6281300000000', '', CASE WHEN g %% 25 = 0 THEN 'missed' ELSE 'ended' END,
  (ARRAY['prank', 'ghost', 'information'])[1 + g %% 3],
  now() - (g %% 365) * interval '1 day' - ((g * 104729) %% 86400) * interval '1 second',
  CASE WHEN g %% 25 = 0 THEN NULL ELSE now() - (g %% 365) * interval '1 day'
    - ((g * 104729) %% 86400) * interval '1 second' + (1 + g %% 20) * interval '1 second' END,
  NULL, false, false, ''
FROM generate_series(1, %(extra)s) AS g
"""

DISPATCH_SQL = """
INSERT INTO incidents_dispatch (incident_id, agency_id, status, dispatched_at, acknowledged_at,
  departed_at, arrived_at, resolved_at, outcome, note, version, escalation_reason)
SELECT i.id, (%(agencies)s::bigint[])[1 + i.id %% array_length(%(agencies)s::bigint[], 1)],
  'resolved', i.created_at + interval '1 min',
  i.created_at + interval '1 min' + (20 + i.id %% 400) * interval '1 second',
  i.created_at + interval '4 min', i.created_at + (8 + i.id %% 25) * interval '1 min',
  i.created_at + interval '100 min', 'handled', '', 1, ''
FROM incidents_incident i
"""


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def timed(fn: Callable[[], Any], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def cold(fn: Callable[[], Any], runs: int) -> list[float]:
    """`fn` timed as the first view after a rollup run sees it: the page figures are
    cached under the rollup version, so one tenant's rollup state is stamped anew
    before each call (outside the timing)."""
    from django.utils import timezone

    from reporting.models import RollupState

    state = RollupState.objects.order_by("pk").first()
    assert state is not None
    out = []
    for _ in range(runs):
        RollupState.objects.filter(pk=state.pk).update(last_attempt_at=timezone.now())
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def line(label: str, samples: list[float]) -> str:
    return (f"  {label:<44} p95 {p95(samples):7.1f} ms   median "
            f"{statistics.median(samples):7.1f} ms   ({len(samples)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tenants", type=int, default=514)
    parser.add_argument("--incidents", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", default="siaga112_bench_reporting")
    parser.add_argument("--keep", action="store_true", help="leave the database afterwards")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database a --keep run left, without rebuilding")
    parser.add_argument("--drop", action="store_true", help="only drop a kept database")
    args = parser.parse_args()
    if args.drop:
        with bench_database(args.db, reuse=True):
            return
    with bench_database(args.db, keep=args.keep, reuse=args.reuse):
        if args.reuse:
            tenants = _refresh()
        else:
            tenants = _build(args.tenants, args.incidents)
        _measure(tenants, args.runs)


def _refresh() -> list[Any]:
    """The kept database, brought up to the code: new public migrations applied,
    every live tenant's rollups brought up to date by the incremental run."""
    from django.core.management import call_command

    from reporting import rollups
    from tenants.models import Tenant

    out = sys.stdout.write
    call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
    tenants = list(Tenant.objects.filter(status=Tenant.Status.LIVE).select_related("region")
                   .order_by("id"))
    t0 = time.perf_counter()
    for tenant in tenants:
        rollups.rollup_tenant(tenant)
    out(f"reused the kept database: {len(tenants)} live tenants, incremental rollup "
        f"in {time.perf_counter() - t0:.0f} s\n")
    return tenants


def _build(n_tenants: int, n_incidents: int) -> list[Any]:
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from reporting import rollups
    from tenants.models import Region, Tenant
    from tenants.services import (
        public_tenant_ensure,
        regions_load,
        template_ensure,
        tenant_provision,
    )

    out = sys.stdout.write
    call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
    regions_load()
    public_tenant_ensure()
    template_ensure()
    regions = list(Region.objects.filter(kind="regency").order_by("code"))
    # Sidoarjo first: it is the Pemda whose month dashboard is measured.
    regions.sort(key=lambda r: r.code != "35.15")
    regions = regions[:n_tenants]
    t0 = time.perf_counter()
    tenants = [tenant_provision(region=r).tenant for r in regions]
    Tenant.objects.filter(pk__in=[t.pk for t in tenants]).update(status=Tenant.Status.LIVE)
    out(f"provisioned {len(tenants)} tenants in {time.perf_counter() - t0:.0f} s\n")

    per_tenant = n_incidents // len(tenants)
    t0 = time.perf_counter()
    for number, tenant in enumerate(tenants, start=1):
        with schema_context(tenant.schema_name), connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT array_agg(id) FROM incidents_category")
            cats = cursor.fetchone()[0]
            cursor.execute("SELECT array_agg(id) FROM incidents_agency")
            agencies = cursor.fetchone()[0]
            cursor.execute(INCIDENTS_SQL, {"k": per_tenant, "cats": cats})
            cursor.execute(CALLS_SQL, {"extra": per_tenant // 2})
            cursor.execute(DISPATCH_SQL, {"agencies": agencies})
            cursor.execute("ANALYZE incidents_incident; ANALYZE incidents_call; "
                           "ANALYZE incidents_dispatch")
        if number % 50 == 0:
            out(f"  data: {number} tenants, {time.perf_counter() - t0:.0f} s\n")
            sys.stdout.flush()
    total = per_tenant * len(tenants)
    out(f"made {total} incidents, {total + total // 2} calls, {total} dispatches in "
        f"{time.perf_counter() - t0:.0f} s\n")

    t0 = time.perf_counter()
    durations = []
    for tenant in Tenant.objects.filter(pk__in=[t.pk for t in tenants]).select_related("region"):
        t1 = time.perf_counter()
        rollups.rollup_tenant(tenant, full=True)
        durations.append(time.perf_counter() - t1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE reporting_dailyrollup")
        cursor.execute("SELECT count(*) FROM reporting_dailyrollup")
        rows = cursor.fetchone()[0]
    out(f"full rollup of {len(durations)} tenants in {time.perf_counter() - t0:.0f} s "
        f"(median {statistics.median(durations) * 1000:.0f} ms each), {rows} rollup rows\n")
    # An incremental run with nothing new: what the beat job costs every 10 minutes.
    return tenants


def _measure(tenants: list[Any], runs: int) -> None:
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from accounts.models import Role, User
    from reporting import kpis, national, rollups
    from reporting.models import WINDOW_DAYS, WINDOW_ZONE
    from reporting.periods import Period, previous_month
    from tenants.models import Tenant

    out = sys.stdout.write
    # An incremental run with nothing new: what the beat job costs every 10 minutes.
    sample = Tenant.objects.select_related("region").get(pk=tenants[0].pk)
    incr = timed(lambda: rollups.rollup_tenant(sample), 10, warmup=1)
    out(line("incremental rollup, one tenant, nothing new", incr) + "\n")

    officer, _ = User.objects.get_or_create(username="bench-nasional",
                                            defaults={"role": Role.NATIONAL_OFFICER})
    # Imported here: it needs Django's settings, which main() sets up first.
    from tests.twofactor import mark_second_factor_passed

    national_client = Client(HTTP_HOST="localhost")
    national_client.force_login(officer)
    mark_second_factor_passed(national_client, officer)  # a full login: 2FA too
    pemda = tenants[0]
    host = pemda.domains.get(is_primary=True).domain
    with schema_context(pemda.schema_name):
        supervisor, _ = User.objects.get_or_create(username="bench-supervisor",
                                                   defaults={"role": Role.SUPERVISOR})
        pemda_client = Client(HTTP_HOST=host)
        pemda_client.force_login(supervisor)
        mark_second_factor_passed(pemda_client, supervisor)
    today = dt.date.today()
    year, month = previous_month(today)
    month_period = Period.month(year, month, pemda.region.timezone if pemda.region else "Asia/Jakarta")
    recent = Period.last_days(WINDOW_DAYS, WINDOW_ZONE)  # the national pages' default
    month_query = f"start={month_period.start}&end={month_period.end}"

    def national_page() -> None:
        response = national_client.get("/kpi/")
        assert response.status_code == 200, response.status_code

    def province_page() -> None:
        assert national_client.get("/kpi/provinsi/35/").status_code == 200

    def pemda_page() -> None:
        assert pemda_client.get(f"/laporan/?{month_query}").status_code == 200

    def national_figures() -> None:
        national.figures(recent)
        national.monthly(recent.end)
        national.freshness()

    def national_window_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(national.WINDOW_SQL, {"start": recent.start, "end": recent.end,
                                                 "province": ""})
            cursor.fetchall()

    def national_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.tenant_id, sum(r.calls), sum(r.within_10), sum(r.offered), "
                "sum(r.incidents), sum(r.ack_ok), sum(r.ack_due) FROM reporting_dailyrollup r "
                "JOIN tenants_tenant t ON t.id = r.tenant_id WHERE t.status = 'live' "
                "AND r.day BETWEEN %s AND %s GROUP BY r.tenant_id",
                [recent.start, recent.end])
            cursor.fetchall()

    def pemda_figures() -> None:
        with schema_context(pemda.schema_name):
            kpis.tenant_kpis(month_period)
            kpis.monthly_trend(month_period)

    def pemda_sql() -> None:
        with schema_context(pemda.schema_name), connection.cursor() as cursor:
            cursor.execute(kpis.CALL_SUMMARY_SQL, {"since": month_period.since,
                                                   "until": month_period.until})
            cursor.fetchall()
            cursor.execute(kpis.RESPONSE_SQL, {"since": month_period.since,
                                               "until": month_period.until, "by": "agency",
                                               "now": month_period.until})
            cursor.fetchall()

    with schema_context(pemda.schema_name):
        month_incidents = kpis.tenant_kpis(month_period).incidents_total
    out(f"\nnational page: {len(tenants)} live Pemda, last 30 days; "
        f"Pemda page: {pemda.name}, {month_period.start:%B %Y}, {month_incidents} incidents\n")
    out(line("national page /kpi/ (through Django)", timed(national_page, runs)) + "\n")
    out(line("  the same, cache cold (a rollup just landed)", cold(national_page, runs)) + "\n")
    out(line("province page /kpi/provinsi/35/", timed(province_page, runs)) + "\n")
    out(line("  the same, cache cold", cold(province_page, runs)) + "\n")
    out(line("  national figures functions only", timed(national_figures, runs)) + "\n")
    out(line("  raw SQL reference: league aggregate", timed(national_sql, runs)) + "\n")
    out(line("  raw SQL: the window rows the page reads", timed(national_window_sql, runs))
        + "\n")
    out(line("Pemda month dashboard /laporan/ (Django)", timed(pemda_page, runs)) + "\n")
    out(line("  Pemda figures functions only", timed(pemda_figures, runs)) + "\n")
    out(line("  raw SQL reference: calls + per-OPD", timed(pemda_sql, runs)) + "\n")
    out("budget: each page p95 < 300 ms\n")


if __name__ == "__main__":
    main()
