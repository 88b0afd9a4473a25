"""Benchmark: seconds to provision a new Pemda tenant, with the final app set.

Runs in a throwaway database (`siaga112_bench`, dropped afterwards) on the
server of DATABASE_URL (default: the machine's PostgreSQL on 127.0.0.1, else
the embedded one). Prints the figures; asserts nothing about time.

    make bench            # or: .venv/bin/python -m tests.perf.bench_provision [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from tests.perf.benchdb import bench_database


def main(n: int = 40, slow_n: int = 3) -> None:
    with bench_database("siaga112_bench"):
        _run(n, slow_n)


def _run(n: int, slow_n: int) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.clone import CloneSchema

    from tenants.models import Region, Tenant
    from tenants.services import (
        TEMPLATE_SCHEMA,
        public_tenant_ensure,
        regions_load,
        template_ensure,
        tenant_provision,
    )

    try:
        call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
        regions_load()
        public_tenant_ensure()
        started = time.perf_counter()
        template_ensure()
        template_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s",
                [TEMPLATE_SCHEMA],
            )
            tables = cursor.fetchone()[0]
        regions = list(Region.objects.filter(kind="regency").order_by("code")[: n + slow_n])
        timings = [tenant_provision(region=r).seconds for r in regions[:n]]

        # django-tenants' own path with TENANT_BASE_SCHEMA, same run, same server:
        # clone_schema (PL/pgSQL) followed by `migrate_schemas --fake` for the schema.
        slow, clone_only = [], []
        for region in regions[n:]:
            tenant = Tenant.objects.create(schema_name="slow_" + region.code.replace(".", "_"),
                                           name=region.name)
            t0 = time.perf_counter()
            tenant.create_schema(check_if_exists=True, verbosity=0)
            slow.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            CloneSchema().clone_schema(TEMPLATE_SCHEMA, tenant.schema_name + "_c")
            clone_only.append(time.perf_counter() - t0)
        connection.set_schema_to_public()

        ordered = sorted(timings)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        lines = [
            f"server: {connection.pg_version // 10000}, tenant tables: {tables}",
            f"template schema built once (migrations): {template_seconds:.2f} s",
            f"provision {n} tenants (snapshot clone): first {timings[0]:.3f} s, "
            f"median {statistics.median(timings):.3f} s, p95 {p95:.3f} s, "
            f"max {max(timings):.3f} s",
            f"django-tenants create_schema from the template, {slow_n} tenants: median "
            f"{statistics.median(slow):.3f} s (of which clone_schema alone "
            f"{statistics.median(clone_only):.3f} s); snapshot clone is "
            f"{statistics.median(slow) / statistics.median(timings):.0f}x faster",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
    finally:
        connection.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
