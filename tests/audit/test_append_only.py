"""The audit table is append-only in PostgreSQL itself: raw SQL from the
application's own database user cannot change or remove a row, in the public
schema and in every Pemda schema (the template's trigger is cloned into each
new tenant). Only a DELETE or an UPDATE in a transaction that switched the
purge setting on goes through (the retention purge of issue 8); TRUNCATE never."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from audit.services import Target, record
from tenants.models import Tenant


def _entry(label: str) -> AuditEntry:
    entry = record(actor=None, action="tenant.status_changed",
                   target=Target("tenant", "x", label), before={"status": "trial"},
                   after={"status": "live"})
    assert entry is not None
    return entry


def _refused(sql: str, params: list | None = None) -> str:
    """Run `sql` in a savepoint; return the database's error text (fails if none)."""
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(exc.value)


@pytest.mark.parametrize("schema", ["public", "tenant"])
def test_raw_update_delete_and_truncate_are_refused(tenant_a, schema):
    name = "public" if schema == "public" else tenant_a.schema_name
    with schema_context(name):
        entry = _entry(f"append-only {schema}")
        for sql in (
            "UPDATE audit_auditentry SET action = 'forged' WHERE id = %s",
            "UPDATE audit_auditentry SET after = '{}'::jsonb",
            "DELETE FROM audit_auditentry WHERE id = %s",
            "TRUNCATE audit_auditentry",
        ):
            params = [entry.pk] if "%s" in sql else None
            assert "append-only" in _refused(sql, params), sql
        row = AuditEntry.objects.get(pk=entry.pk)
        assert (row.action, row.after) == ("tenant.status_changed", {"status": "live"})


def test_the_orm_cannot_change_or_delete_either(tenant_a):
    with schema_context(tenant_a.schema_name):
        entry = _entry("orm")
        entry.action = "forged"
        with pytest.raises(ValueError):
            entry.save()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEntry.objects.filter(pk=entry.pk).delete()
        assert AuditEntry.objects.get(pk=entry.pk).action == "tenant.status_changed"


def test_the_purge_setting_allows_update_and_delete_never_truncate(tenant_a):
    # The retention purge pseudonymises (UPDATE) and removes (DELETE) rows.
    with schema_context(tenant_a.schema_name):
        entry = _entry("purge")
        kept = _entry("pseudonymised")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL siaga112.purge = 'on'")
            cursor.execute("UPDATE audit_auditentry SET target_label = '#x' WHERE id = %s",
                           [kept.pk])
            assert cursor.rowcount == 1
            assert "append-only" in _refused("TRUNCATE audit_auditentry")
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
            assert cursor.rowcount == 1
            # Any other value is no permission.
            cursor.execute("SET LOCAL siaga112.purge = 'off'")
            other = _entry("after purge")
            assert "append-only" in _refused(
                "DELETE FROM audit_auditentry WHERE id = %s", [other.pk]
            )
        assert not AuditEntry.objects.filter(pk=entry.pk).exists()
        assert AuditEntry.objects.get(pk=kept.pk).target_label == "#x"


def test_every_schema_has_the_table_and_both_triggers(db):
    """Public, the template and every provisioned Pemda (cloned from the
    template by tenants.cloning): none lacks the trigger."""
    schemas = set(Tenant.objects.values_list("schema_name", flat=True)) | {"public"}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT n.nspname, array_agg(t.tgname ORDER BY t.tgname)
            FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = 'audit_auditentry' AND NOT t.tgisinternal
            GROUP BY n.nspname
            """
        )
        found = dict(cursor.fetchall())
    assert len(schemas) > 100
    assert {s for s in schemas if found.get(s) != ["audit_entry_append_only",
                                                   "audit_entry_no_truncate"]} == set()


def test_migrate_all_can_replay_the_migration_with_its_trigger(db):
    """migrate_all replays the template's plan as SQL in every Pemda schema;
    the audit migration must be replayable (no RunPython) and carry the trigger."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.operations.special import RunPython

    executor = MigrationExecutor(connection)
    migration = executor.loader.graph.nodes[("audit", "0001_initial")]
    assert all(op.reduces_to_sql and not isinstance(op, RunPython)
               for op in migration.operations)
    statements = executor.loader.collect_sql([(migration, False)])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "audit_replay_probe"')
        cursor.execute('SET LOCAL search_path TO "audit_replay_probe", public')
        for statement in statements:
            if statement.strip() and not statement.lstrip().startswith("--"):
                cursor.execute(statement)
        cursor.execute("INSERT INTO audit_auditentry (at, action, target_type, target_id, "
                       "target_label, actor_username, actor_role, before, after) VALUES "
                       "(now(), 'x', 't', '1', 'l', '', '', '{}', '{}')")
        cursor.execute("SELECT to_regclass('audit_replay_probe.audit_auditentry') IS NOT NULL")
        assert cursor.fetchone()[0]
        assert "append-only" in _refused("DELETE FROM audit_auditentry")
        transaction.set_rollback(True)
