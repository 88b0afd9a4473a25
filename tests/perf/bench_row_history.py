"""Benchmark: what the row-history trigger (audit.history) costs per written row.

In a throwaway database, two tables shaped like incidents_incident, one with
the trigger, get N single-row INSERTs then N single-row UPDATEs (one
transaction each phase, one statement a row, as the services write), two
rounds. Prints microseconds per statement; asserts nothing about time.

    .venv/bin/python -m tests.perf.bench_row_history [N]
"""

from __future__ import annotations

import sys
import time

from tests.perf.benchdb import bench_database

TABLE = (
    "CREATE TABLE {t} (id bigserial PRIMARY KEY, reference varchar(40), status varchar(12), "
    "description text, caller varchar(20), created_at timestamptz DEFAULT now(), priority int)"
)


def main(n: int = 5000) -> None:
    with bench_database("siaga112_bench_history"):
        _run(n)


def _run(n: int) -> None:
    from django.db import connection, transaction

    from audit.history import ROW_HISTORY_FUNCTION, track

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE audit_rowhistory (id bigserial PRIMARY KEY, at timestamptz NOT NULL, "
            "table_name varchar(63), row_pk varchar(64), op varchar(8), before jsonb, "
            "after jsonb, db_user varchar(63), txid bigint)"
        )
        cursor.execute(ROW_HISTORY_FUNCTION)
        for table in ("plain", "tracked"):
            cursor.execute(TABLE.format(t=table))
        for statement in track("tracked").sql:
            cursor.execute(statement)
        for round_no in (1, 2):
            figures = {}
            for table in ("plain", "tracked"):
                cursor.execute(f"TRUNCATE {table} RESTART IDENTITY")
                started = time.perf_counter()
                with transaction.atomic():
                    for i in range(n):
                        cursor.execute(
                            f"INSERT INTO {table} (reference, status, description, caller, "  # noqa: S608
                            "priority) VALUES (%s, 'open', 'kebakaran rumah warga', "
                            "'+6281234567890', 1)",
                            [f"R{i}"],
                        )
                inserted = time.perf_counter() - started
                started = time.perf_counter()
                with transaction.atomic():
                    for i in range(1, n + 1):
                        cursor.execute(
                            f"UPDATE {table} SET status = 'dispatched' WHERE id = %s",  # noqa: S608
                            [i],
                        )
                updated = time.perf_counter() - started
                figures[table] = (inserted / n * 1e6, updated / n * 1e6)
            extra_ins = figures["tracked"][0] - figures["plain"][0]
            extra_upd = figures["tracked"][1] - figures["plain"][1]
            sys.stdout.write(
                f"round {round_no}, {n} rows: plain insert {figures['plain'][0]:.0f} us, "
                f"update {figures['plain'][1]:.0f} us; with history insert "
                f"{figures['tracked'][0]:.0f} us (+{extra_ins:.0f}), update "
                f"{figures['tracked'][1]:.0f} us (+{extra_upd:.0f})\n"
            )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
