"""Per-Pemda backup and restore: `pg_dump --schema` of one Pemda restored under a
fresh schema name gives back every table's rows exactly (tenants/backup.py, the
`siaga112 backup_tenant` / `restore_tenant` commands)."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from tenants.backup import BackupError, renamed_dump, tenant_backup, tenant_restore
from tests.foundation.private_servers import source_url_of

ROOT = Path(__file__).resolve().parents[2]


def _tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", [schema])
        return [row[0] for row in cursor.fetchall()]


def _fingerprint(schema: str, table: str) -> tuple[int, str]:
    """Row count and an md5 over every row's full text, in a stable order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) '  # noqa: S608
            f'FROM "{schema}"."{table}" t'
        )
        count, digest = cursor.fetchone()
    return count, digest


def _structure(schema: str) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relkind::text, count(*) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s GROUP BY 1
            """, [schema])
        kinds = dict(cursor.fetchall())
        cursor.execute(
            """
            SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
            WHERE n.nspname = %s
            """, [schema])
        kinds["constraints"] = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = %s AND NOT g.tgisinternal
            """, [schema])
        kinds["triggers"] = cursor.fetchone()[0]
    return kinds


@pytest.fixture
def fresh_schema(committed) -> Iterator[str]:
    name = f"restore_{uuid.uuid4().hex[:10]}"
    yield name
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_a_pemda_schema_round_trips_exactly_into_a_fresh_schema(
    fresh_schema: str, tmp_path: Path
) -> None:
    from tenants.models import Tenant

    source = Tenant.objects.get(region__slug="sidoarjo").schema_name  # the demo's busiest
    dump = tmp_path / "sidoarjo.sql"
    with dump.open("w", encoding="utf-8") as out:
        tenant_backup(schema=source, out=out)
    tenant_restore(dump=dump, schema=fresh_schema)

    tables = _tables(source)
    assert len(tables) > 20 and _tables(fresh_schema) == tables
    rows = 0
    for table in tables:
        original = _fingerprint(source, table)
        assert _fingerprint(fresh_schema, table) == original, table
        rows += original[0]
    assert rows > 1000  # calls, incidents, dispatches, timelines, staff, ...
    assert _structure(fresh_schema) == _structure(source)
    # The restored copy keeps the append-only audit trail's trigger, and its sequences
    # go on after the restored rows.
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT max(id) FROM "{fresh_schema}".incidents_incident')
        top = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('\"{fresh_schema}\".incidents_incident', 'id'))"
        )
        assert cursor.fetchone()[0] > top
    with pytest.raises(DatabaseError, match="append-only|audit"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f'UPDATE "{fresh_schema}".audit_auditentry SET action = action')


def test_restore_refuses_an_existing_schema_and_leaves_nothing_half_restored(
    fresh_schema: str, tmp_path: Path
) -> None:
    from tenants.backup import schema_exists

    dump = tmp_path / "dairi.sql"
    with dump.open("w", encoding="utf-8") as out:
        tenant_backup(schema="pemda_12_11", out=out)
    with pytest.raises(BackupError, match="exists already"):
        tenant_restore(dump=dump, schema="pemda_35_15")
    # A dump that breaks halfway: the single transaction leaves no schema behind.
    broken = tmp_path / "broken.sql"
    text = dump.read_text(encoding="utf-8")
    cut = text.index("\nCOPY ", len(text) // 2)
    broken.write_text(text[:cut] + "\nSELECT no_such_function();\n" + text[cut:],
                      encoding="utf-8")
    with pytest.raises(BackupError, match="nothing restored"):
        tenant_restore(dump=broken, schema=fresh_schema)
    assert not schema_exists(fresh_schema)


def test_renaming_touches_the_ddl_never_the_copied_rows() -> None:
    dump = [
        "\\restrict abc123\n",
        "CREATE SCHEMA pemda_35_15;\n",
        "SET transaction_timeout = 0;\n",
        "CREATE TABLE pemda_35_15.notes (id integer, body text);\n",
        "COPY pemda_35_15.notes (id, body) FROM stdin;\n",
        "1\tmoved from pemda_35_15 to pemda_35_150\n",
        "\\.\n",
        "SELECT pg_catalog.setval('pemda_35_15.notes_id_seq', 1, true);\n",
        "ALTER TABLE ONLY pemda_35_150.other ADD CONSTRAINT x;\n",
        "\\unrestrict abc123\n",
    ]
    out = list(renamed_dump(dump, source="pemda_35_15", target="restored"))
    assert out == [
        'CREATE SCHEMA "restored";\n',
        'CREATE TABLE "restored".notes (id integer, body text);\n',
        'COPY "restored".notes (id, body) FROM stdin;\n',
        "1\tmoved from pemda_35_15 to pemda_35_150\n",
        "\\.\n",
        "SELECT pg_catalog.setval('\"restored\".notes_id_seq', 1, true);\n",
        "ALTER TABLE ONLY pemda_35_150.other ADD CONSTRAINT x;\n",
    ]


def test_the_command_line_backs_up_and_restores(fresh_schema: str, tmp_path: Path) -> None:
    import os

    from django.conf import settings

    db = settings.DATABASES["default"]
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env |= {"SIAGA112_DEBUG": "1",
           "DATABASE_URL": source_url_of(db)}
    cli = [sys.executable, "-m", "siaga112.cli"]
    dump = tmp_path / "dairi.sql"
    made = subprocess.run([*cli, "backup_tenant", "dairi", str(dump)], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    assert "pemda_12_11 written" in made.stdout and dump.stat().st_size > 10_000
    back = subprocess.run([*cli, "restore_tenant", str(dump), fresh_schema],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
                          check=False)
    assert back.returncode == 0, back.stderr
    for table in _tables("pemda_12_11"):
        assert _fingerprint(fresh_schema, table) == _fingerprint("pemda_12_11", table), table
    unused = io.StringIO()
    with pytest.raises(BackupError, match="no schema"):
        tenant_backup(schema="pemda_99_99", out=unused)
