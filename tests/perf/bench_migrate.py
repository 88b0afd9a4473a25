"""Benchmark: migrations over all 514 Pemda schemas.

Builds a throwaway database (`siaga112_bench_mig`) with every kabupaten/kota
provisioned, then times
  1. a no-op `migrate_all` (everything up to date);
  2. a new migration that adds one column (and, since it depends on it, one
     table): axes 0009 + 0010 are removed from every schema by SQL, as if just
     written, and `migrate_all` brings all 515 schemas forward;
  3. for comparison, django-tenants' own `migrate_schemas --tenant` for the same
     change, undone again in every schema and run over all of them (measured, not
     extrapolated from a sample).
Prints figures; asserts nothing about time.

    .venv/bin/python -m tests.perf.bench_migrate [N_TENANTS]
"""

from __future__ import annotations

import sys
import time

from tests.perf.benchdb import bench_database

UNDO_AXES = """
DROP TABLE IF EXISTS "{s}".axes_accessattemptexpiration;
ALTER TABLE "{s}".axes_accesslog DROP COLUMN IF EXISTS session_hash;
DELETE FROM "{s}".django_migrations WHERE app = 'axes'
  AND name IN ('0009_add_session_hash', '0010_accessattemptexpiration');
"""


def main(n_tenants: int = 514) -> None:
    with bench_database("siaga112_bench_mig"):
        _run(n_tenants)


def _run(n_tenants: int) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("tenants.services").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection

    from tenants.migrating import migrate_all
    from tenants.models import Region, Tenant
    from tenants.services import public_tenant_ensure, regions_load, tenant_provision

    out = sys.stdout.write
    try:
        call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
        regions_load()
        public_tenant_ensure()
        t0 = time.perf_counter()
        for region in Region.objects.filter(kind="regency").order_by("code")[:n_tenants]:
            tenant_provision(region=region)
        out(f"provisioned {n_tenants} tenants in {time.perf_counter() - t0:.1f} s\n")
        schemas = list(Tenant.objects.exclude(schema_name="public")
                       .values_list("schema_name", flat=True))

        t0 = time.perf_counter()
        result = migrate_all()
        out(f"no-op migrate_all over {result.checked} schemas: "
            f"{time.perf_counter() - t0:.2f} s (migrated {len(result.migrated)})\n")

        with connection.cursor() as cursor:
            cursor.execute("".join(UNDO_AXES.format(s=s) for s in schemas))
        t0 = time.perf_counter()
        result = migrate_all()
        took = time.perf_counter() - t0
        out(f"one-column (+ one table) migration over {len(schemas)} schemas: {took:.1f} s "
            f"(template migrated, {len(result.replayed)} replayed, "
            f"{len(result.migrated) - len(result.replayed) - 1} migrated one by one)\n")

        with connection.cursor() as cursor:
            cursor.execute("".join(UNDO_AXES.format(s=s) for s in schemas))
        t0 = time.perf_counter()
        call_command("migrate_schemas", "--tenant", interactive=False, verbosity=0)
        took_stock = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_namespace n WHERE n.nspname = ANY(%s) "
                           "AND EXISTS (SELECT 1 FROM information_schema.columns c "
                           "WHERE c.table_schema = n.nspname AND c.table_name = 'axes_accesslog' "
                           "AND c.column_name = 'session_hash')", [schemas])
            done = cursor.fetchone()[0]
        out(f"django-tenants migrate_schemas --tenant for the same change over "
            f"{len(schemas)} schemas: {took_stock:.1f} s ({took_stock / len(schemas):.2f} s "
            f"per schema; {done} of {len(schemas)} schemas have the column afterwards); "
            f"migrate_all took {took:.1f} s, {took_stock / took:.0f}x less\n")
    finally:
        connection.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 514)
