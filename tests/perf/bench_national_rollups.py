"""Benchmark, quick variant of bench_reporting for the national pages only: 514
live tenants (rows, no schemas) and a year of per-day rollups made directly in
SQL (514 x 365 = 187,610 daily rows, as many as the 5-million-incident run
produces, plus their monthly sums). The national pages read nothing else, so
this times them in about a minute. The window rows (the default 30 days per Pemda)
are written as the rollup run writes them. Prints p95; asserts nothing about time.

    .venv/bin/python -m tests.perf.bench_national_rollups
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time

from tests.perf.benchdb import bench_database

FIGURES = ("calls, blocked, offered, answered, missed, prank_ghost, within_10, within_20, "
           "answer_sum, answer_hist, incidents, incidents_closed, a2d_count, a2d_sum, "
           "dispatches, ack_ok, ack_due, ack_count, ack_sum, ack_hist, arrive_ok, arrive_due, "
           "arrive_count, arrive_sum, arrive_hist, resolved, resolve_sum")
HIST = "ARRAY[3,4,5,6,7,3,2,1,1,1,1,1,3]"


def timed(label: str, fn, runs: int = 30) -> None:
    fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    p95 = sorted(samples)[int(round(0.95 * runs)) - 1]
    sys.stdout.write(f"  {label:<40} p95 {p95:7.1f} ms   median "
                     f"{statistics.median(samples):7.1f} ms   ({runs} runs)\n")


def main() -> None:
    with bench_database("siaga112_bench_national"):
        _run()


def _run() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from accounts.models import Role, User
    from reporting import national
    from reporting.periods import Period
    from tenants.models import Region, Tenant
    from tenants.services import public_tenant_ensure, regions_load

    call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
    regions_load()
    public_tenant_ensure()
    Tenant.objects.bulk_create([
        Tenant(schema_name="pemda_" + r.code.replace(".", "_"), name=r.name, region=r,
               status=Tenant.Status.LIVE)
        for r in Region.objects.filter(kind="regency").order_by("code")
    ])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO reporting_dailyrollup (tenant_id, region_id, province_code, day, "
            f"{FIGURES}, computed_at) SELECT t.id, r.code, r.parent_id, current_date - d, "
            f"40 + d % 7, 1, 39, 38, 1, 10, 20, 30, 400, {HIST}, 27, 27, 27, 3000, 27, 15, 27, "
            f"27, 5000, {HIST}, 20, 27, 27, 20000, {HIST}, 27, 90000, now() "
            "FROM tenants_tenant t JOIN tenants_region r ON r.code = t.region_id, "
            "generate_series(0, 364) d")
        cursor.execute(
            f"INSERT INTO reporting_monthlyrollup (tenant_id, region_id, province_code, month, "
            f"{FIGURES}, computed_at) SELECT tenant_id, region_id, province_code, "
            "date_trunc('month', day)::date, sum(calls), sum(blocked), sum(offered), "
            "sum(answered), sum(missed), sum(prank_ghost), sum(within_10), sum(within_20), "
            f"sum(answer_sum), {HIST}, sum(incidents), sum(incidents_closed), sum(a2d_count), "
            f"sum(a2d_sum), sum(dispatches), sum(ack_ok), sum(ack_due), sum(ack_count), "
            f"sum(ack_sum), {HIST}, sum(arrive_ok), sum(arrive_due), sum(arrive_count), "
            f"sum(arrive_sum), {HIST}, sum(resolved), sum(resolve_sum), now() "
            "FROM reporting_dailyrollup GROUP BY 1, 2, 3, 4")
        cursor.execute(
            "INSERT INTO reporting_rollupstate (tenant_id, watermark, last_success_at, "
            "last_attempt_at, last_error, days_refreshed) SELECT id, now(), now(), now(), '', 1 "
            "FROM tenants_tenant WHERE region_id IS NOT NULL")
        cursor.execute("ANALYZE")
    # The per-Pemda window rows each rollup run rewrites (reporting.rollups).
    from django.utils import timezone

    from reporting import rollups

    now = timezone.now()
    for tenant in Tenant.objects.filter(status=Tenant.Status.LIVE).select_related("region"):
        rollups.window_refresh(tenant, now, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM reporting_dailyrollup")
        sys.stdout.write(f"{cursor.fetchone()[0]} daily rollup rows\n")
    officer = User.objects.create_user("bench-nasional", role=Role.NATIONAL_OFFICER)
    # Imported here: it needs Django's settings, which main() sets up first.
    from tests.twofactor import mark_second_factor_passed

    client = Client(HTTP_HOST="localhost")
    client.force_login(officer)
    mark_second_factor_passed(client, officer)  # a full login: 2FA too
    today = dt.date.today()
    recent = Period.last_days(30)  # the national pages' default (WIB)
    timed("national page /kpi/ (through Django)", lambda: client.get("/kpi/"))
    timed("province page /kpi/provinsi/35/", lambda: client.get("/kpi/provinsi/35/"))
    other = Period(today - dt.timedelta(days=44), today - dt.timedelta(days=15))
    timed("national page, another 30 days (daily rows)",
          lambda: client.get(f"/kpi/?start={other.start}&end={other.end}"))
    timed("  totals + league + provinces (window rows)", lambda: national.figures(recent))
    timed("  the same, another 30 days (daily rows)", lambda: national.figures(other))
    timed("  12-month trend (monthly rollups)", lambda: national.monthly(recent.end))
    sys.stdout.write("budget: each page p95 < 300 ms\n")


if __name__ == "__main__":
    main()
