"""The row history kept by PostgreSQL (audit.history): a write that bypasses
the services is recorded with its before and after images, in the schema of
the row; the history cannot be changed by the application's database role;
every schema, a freshly provisioned Pemda's too, has the triggers; incident
timelines are append-only in the database too; the Pemda admin reads the
history on its own host and nobody else does."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from audit.models import RowHistory
from incidents.models import Incident, PbxCredential, TimelineEntry
from tenants.models import Region, Tenant
from tenants.services import tenant_provision

from .test_pages import _tenant_client, _text

HISTORY_PAGE = "/manage/audit/history/"

TENANT_TABLES = {
    "incidents_incident", "incidents_dispatch", "incidents_timelineentry",
    "incidents_pbxcredential", "incidents_agencymember", "incidents_incidentsettings",
    "incidents_handovernote", "accounts_user", "accounts_user_groups",
}
PUBLIC_TABLES = {
    "onboarding_pemdaonboarding", "onboarding_stagetransition", "onboarding_application",
    "onboarding_verificationvisit", "onboarding_operatorrouting", "onboarding_trainingsession",
    "onboarding_trialcall", "onboarding_launch", "onboarding_regulation",
    "onboarding_admininvitation", "accounts_user", "accounts_user_groups", "tenants_tenant",
    "integration_apitoken", "webhooks_webhooksubscription",
}


def _refused(sql: str, params: list | None = None) -> str:
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(exc.value)


def _history_triggers(schema: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_trigger t
            JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_proc p ON p.oid = t.tgfoid
            WHERE n.nspname = %s AND p.proname = 'audit_row_history' AND NOT t.tgisinternal
            """,
            [schema],
        )
        return {row[0] for row in cursor.fetchall()}


def _an_incident() -> Incident:
    incident = Incident.objects.order_by("id").first()
    assert incident is not None, "the demo seeds incidents in every Pemda"
    return incident


@pytest.mark.django_db
def test_raw_sql_update_on_an_incident_is_recorded_with_before_and_after(tenant_a):
    with schema_context(tenant_a.schema_name):
        incident = _an_incident()
        old_description = incident.description
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE incidents_incident SET description = 'forged by raw SQL', priority = 4 "
                "WHERE id = %s", [incident.pk]
            )
        row = RowHistory.objects.filter(
            table_name="incidents_incident", row_pk=str(incident.pk)
        ).latest("id")
        assert row.op == "UPDATE"
        assert row.before["description"] == old_description
        assert row.after["description"] == "forged by raw SQL"
        assert row.after["priority"] == 4
        assert {name for name, _, _ in row.changes()} >= {"description"}
        assert row.db_user == connection.settings_dict["USER"] or row.db_user
        # An UPDATE that changes nothing is not a history row.
        count = RowHistory.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE incidents_incident SET status = status WHERE id = %s",
                           [incident.pk])
        assert RowHistory.objects.count() == count


@pytest.mark.django_db
def test_a_write_lands_in_its_own_schemas_history_whatever_the_search_path(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        incident = _an_incident()
        before_a = RowHistory.objects.count()
    with schema_context(tenant_b.schema_name):
        before_b = RowHistory.objects.count()
    before_public = RowHistory.objects.count()
    with connection.cursor() as cursor:  # search path: public only
        cursor.execute(
            f'UPDATE "{tenant_a.schema_name}".incidents_incident '  # noqa: S608
            "SET address = 'Jl. lewat jalur belakang' WHERE id = %s", [incident.pk]
        )
    assert RowHistory.objects.count() == before_public
    with schema_context(tenant_b.schema_name):
        assert RowHistory.objects.count() == before_b
    with schema_context(tenant_a.schema_name):
        assert RowHistory.objects.count() == before_a + 1
        assert RowHistory.objects.latest("id").after["address"] == "Jl. lewat jalur belakang"


@pytest.mark.django_db
def test_services_writes_and_deletes_are_recorded_and_secrets_masked(tenant_a):
    with schema_context(tenant_a.schema_name):
        user = User.objects.create_user(username="history-probe", password="correct-horse-112",
                                        role="call_taker")
        created = RowHistory.objects.filter(table_name="accounts_user",
                                            row_pk=str(user.pk)).get()
        assert created.op == "INSERT" and created.before is None
        assert created.after["role"] == "call_taker"
        assert created.after["password"].startswith("masked:")
        assert user.password not in str(created.after)
        user.role = "supervisor"
        user.save(update_fields=["role"])
        # A login alone (last_login) is not a history row.
        User.objects.filter(pk=user.pk).update(last_login="2026-11-29T10:00:00Z")
        rows = list(RowHistory.objects.filter(table_name="accounts_user", row_pk=str(user.pk))
                    .order_by("id"))
        assert [r.op for r in rows] == ["INSERT", "UPDATE"]
        assert rows[1].changes() == [("role", "call_taker", "supervisor")]
        cred = PbxCredential.objects.create(name="probe", key_prefix="hist-probe",
                                            key_hash="a" * 64)
        PbxCredential.objects.filter(pk=cred.pk).update(key_hash="b" * 64)
        PbxCredential.objects.filter(pk=cred.pk).delete()
        key_rows = list(RowHistory.objects.filter(table_name="incidents_pbxcredential",
                                                  row_pk=str(cred.pk)).order_by("id"))
        assert [r.op for r in key_rows] == ["INSERT", "UPDATE", "DELETE"]
        assert key_rows[1].before["key_hash"] != key_rows[1].after["key_hash"]
        assert "a" * 64 not in str([r.before for r in key_rows] + [r.after for r in key_rows])
        assert key_rows[2].after is None and key_rows[2].before["name"] == "probe"


@pytest.mark.parametrize("schema", ["public", "tenant"])
@pytest.mark.django_db
def test_the_history_table_refuses_update_delete_and_truncate(tenant_a, schema):
    name = "public" if schema == "public" else tenant_a.schema_name
    with schema_context(name):
        User.objects.create_user(username=f"history-guard-{schema}", password="x" * 12)
        row = RowHistory.objects.latest("id")
        for sql in (
            "UPDATE audit_rowhistory SET after = '{}'::jsonb WHERE id = %s",
            "UPDATE audit_rowhistory SET op = 'INSERT'",
            "DELETE FROM audit_rowhistory WHERE id = %s",
            "DELETE FROM audit_rowhistory",
            "TRUNCATE audit_rowhistory",
        ):
            params = [row.pk] if "%s" in sql else None
            assert "append-only" in _refused(sql, params), sql
        with pytest.raises(ValueError):
            row.save()
        fresh = RowHistory.objects.get(pk=row.pk)
        assert (fresh.op, fresh.after) == (row.op, row.after)


@pytest.mark.django_db
def test_only_the_purge_setting_lets_history_be_changed_never_truncated(tenant_a):
    with schema_context(tenant_a.schema_name):
        incident = _an_incident()
        Incident.objects.filter(pk=incident.pk).update(address="purge probe")
        row = RowHistory.objects.latest("id")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL siaga112.purge = 'on'")
            cursor.execute("UPDATE audit_rowhistory SET after = after || '{\"caller\": \"#x\"}' "
                           "WHERE id = %s", [row.pk])
            assert cursor.rowcount == 1
            assert "append-only" in _refused("TRUNCATE audit_rowhistory")
            cursor.execute("SET LOCAL siaga112.purge = 'off'")
            assert "append-only" in _refused("DELETE FROM audit_rowhistory WHERE id = %s",
                                             [row.pk])
        assert RowHistory.objects.get(pk=row.pk).after["caller"] == "#x"


@pytest.mark.django_db
def test_timeline_entries_are_append_only_in_the_database(tenant_a):
    with schema_context(tenant_a.schema_name):
        entry = TimelineEntry.objects.exclude(actor=None).order_by("id").first()
        assert entry is not None
        for sql in (
            "UPDATE incidents_timelineentry SET kind = 'forged' WHERE id = %s",
            "UPDATE incidents_timelineentry SET actor_id = NULL, kind = 'x' WHERE id = %s",
            "DELETE FROM incidents_timelineentry WHERE id = %s",
            "TRUNCATE incidents_timelineentry CASCADE",
        ):
            params = [entry.pk] if "%s" in sql else None
            assert "append-only" in _refused(sql, params), sql
        # The one UPDATE Django makes itself: a deleted user's entries keep their
        # text with actor_id set to NULL (on_delete=SET_NULL).
        with transaction.atomic():
            TimelineEntry.objects.filter(pk=entry.pk).update(actor=None)
            assert TimelineEntry.objects.get(pk=entry.pk).actor_id is None
            transaction.set_rollback(True)
        assert TimelineEntry.objects.get(pk=entry.pk).kind == entry.kind


@pytest.mark.django_db
def test_every_schema_has_the_history_triggers(db):
    schemas = set(Tenant.objects.exclude(schema_name="public")
                  .values_list("schema_name", flat=True))
    assert len(schemas) > 100 and "tenant_template" in schemas
    assert _history_triggers("public") == PUBLIC_TABLES
    missing = {s: TENANT_TABLES - _history_triggers(s) for s in schemas}
    assert {s: m for s, m in missing.items() if m} == {}


@pytest.mark.django_db
def test_a_freshly_provisioned_pemda_has_the_triggers_and_records(db):
    tenant = tenant_provision(region=Region.objects.get(name="Kabupaten Malang")).tenant
    assert _history_triggers(tenant.schema_name) == TENANT_TABLES
    with schema_context(tenant.schema_name):
        user = User.objects.create_user(username="cloned-history", password="x" * 12)
        row = RowHistory.objects.get(table_name="accounts_user", row_pk=str(user.pk))
        assert row.op == "INSERT"
        assert "append-only" in _refused("DELETE FROM audit_rowhistory")
        assert "append-only" in _refused("TRUNCATE incidents_timelineentry")
    with schema_context("tenant_template"):
        assert not RowHistory.objects.filter(table_name="accounts_user",
                                             row_pk=str(user.pk), after__username="cloned-history"
                                             ).exists()


@pytest.mark.django_db
def test_the_pemda_admin_reads_incident_history_nobody_else(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        incident = _an_incident()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE incidents_incident SET address = 'Jejak Dairi' WHERE id = %s",
                           [incident.pk])
        count = RowHistory.objects.count()
    with schema_context(tenant_b.schema_name):
        other = _an_incident()
        Incident.objects.filter(pk=other.pk).update(address="Jejak Sidoarjo")

    anonymous = _tenant_client(tenant_a, None).get(HISTORY_PAGE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for username in ("operator1", "supervisor", "bupati", "damkar", "psc119"):
        response = _tenant_client(tenant_a, username).get(HISTORY_PAGE)
        assert response.status_code == 403, username
        assert "Jejak Dairi" not in response.content.decode()
    cross = _tenant_client(tenant_b, "admin").get(HISTORY_PAGE, HTTP_HOST="dairi.localhost")
    assert cross.status_code == 302 and "Jejak Dairi" not in cross.content.decode()
    admin = _tenant_client(tenant_a, "admin")
    assert admin.post(HISTORY_PAGE).status_code == 405

    page = admin.get(HISTORY_PAGE, {"table": "incidents_incident", "row": str(incident.pk)})
    assert page.status_code == 200
    text = _text(page)
    assert "Jejak Dairi" in text and "Jejak Sidoarjo" not in text
    # Labelled in Indonesian first (the catalogues say "Kejadian" or "Insiden").
    assert ("Kejadian" in text or "Insiden" in text) and "incidents_incident" not in text
    # The admin does not work calls: the caller's number is masked here too.
    if incident.caller:
        assert incident.caller not in page.content.decode()
    # The audit page leads here; reading wrote nothing.
    assert f'href="{HISTORY_PAGE}"' in admin.get("/manage/audit/").content.decode()
    with schema_context(tenant_a.schema_name):
        assert RowHistory.objects.count() == count
    own = _text(_tenant_client(tenant_b, "admin").get(HISTORY_PAGE))
    assert "Jejak Sidoarjo" in own and "Jejak Dairi" not in own


@pytest.mark.django_db
def test_the_migrations_replay_as_sql_in_a_fresh_schema(db):
    """migrate_all replays the template's plan as SQL in every Pemda schema:
    the history migrations must be replayable (no RunPython) and work there."""
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.operations.special import RunPython

    from audit.history import track

    executor = MigrationExecutor(connection)
    nodes = executor.loader.graph.nodes
    for key in (("audit", "0002_row_history"), ("incidents", "0005_history_and_retention"),
                ("accounts", "0003_row_history"), ("onboarding", "0004_row_history"),
                ("tenants", "0002_row_history")):
        assert all(op.reduces_to_sql and not isinstance(op, RunPython)
                   for op in nodes[key].operations), key
    statements = executor.loader.collect_sql([(nodes[("audit", "0002_row_history")], False)])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "history_replay_probe"')
        cursor.execute('SET LOCAL search_path TO "history_replay_probe", public')
        for statement in statements:
            if statement.strip() and not statement.lstrip().startswith("--"):
                cursor.execute(statement)
        cursor.execute("CREATE TABLE probe_thing (id serial PRIMARY KEY, caller text)")
        for statement in track("probe_thing").sql:
            cursor.execute(statement)
        cursor.execute("INSERT INTO probe_thing (caller) VALUES ('+6281299887700')")
        cursor.execute("UPDATE probe_thing SET caller = '#x'")
        cursor.execute("SELECT op, before ->> 'caller', after ->> 'caller' "
                       "FROM history_replay_probe.audit_rowhistory ORDER BY id")
        assert cursor.fetchall() == [("INSERT", None, "+6281299887700"),
                                     ("UPDATE", "+6281299887700", "#x")]
        assert "append-only" in _refused("DELETE FROM audit_rowhistory")
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_provisioning_works_when_the_template_has_history_of_its_own(db):
    """The template's history stays the template's: a new Pemda starts with only
    the history of its own seed rows, and cloning does not trip over ids."""
    from tenants import cloning

    with schema_context("tenant_template"):
        from incidents.models import IncidentSettings

        IncidentSettings.objects.filter(pk=1).update(block_hours=25)
        IncidentSettings.objects.filter(pk=1).update(block_hours=24)
        template_rows = RowHistory.objects.count()
        assert template_rows >= 2
    cloning._cache.clear()  # the snapshot lists the template's tables with rows
    tenant = tenant_provision(region=Region.objects.get(name="Kabupaten Lumajang")).tenant
    with schema_context(tenant.schema_name):
        seeded = list(RowHistory.objects.values_list("table_name", "op"))
        assert seeded and {op for _, op in seeded} == {"INSERT"}
        User.objects.create_user(username="after-clone", password="x" * 12)
        assert RowHistory.objects.filter(table_name="accounts_user").count() == 1


@pytest.mark.django_db
def test_a_serving_role_with_dml_grants_only_cannot_silence_the_history(tenant_a):
    """The deployment the README asks for: the tables' owner migrates, the app
    serves as a role with DML grants only. That role's writes are recorded, and
    it can neither change the history nor disable or drop its triggers."""
    import uuid

    role = f"siaga112_dml_probe_{uuid.uuid4().hex[:8]}"
    schema = tenant_a.schema_name
    with schema_context(schema):
        incident = _an_incident()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")  # rolled back with the test
        cursor.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
        cursor.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" '
                       f"TO {role}")
        cursor.execute(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}')
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(f'SET LOCAL search_path TO "{schema}"')
        cursor.execute("UPDATE incidents_incident SET address = 'ditulis peran DML' "
                       "WHERE id = %s", [incident.pk])
        cursor.execute("SELECT db_user, after ->> 'address' FROM audit_rowhistory "
                       "ORDER BY id DESC LIMIT 1")
        assert cursor.fetchone() == (role, "ditulis peran DML")
        # _refused opens a new cursor, which sets the search path again: qualify.
        history, incidents = f'"{schema}".audit_rowhistory', f'"{schema}".incidents_incident'
        for sql, expected in (
            (f"UPDATE {history} SET op = 'INSERT'", "append-only"),
            (f"DELETE FROM {history}", "append-only"),
            (f"TRUNCATE {history}", "permission denied"),  # not even granted
            (f"ALTER TABLE {history} DISABLE TRIGGER ALL", "must be owner"),
            (f"ALTER TABLE {incidents} DISABLE TRIGGER incidents_incident_history",
             "must be owner"),
            (f"DROP TRIGGER incidents_incident_history ON {incidents}", "must be owner"),
            ("SET session_replication_role = replica", "permission denied"),
        ):
            message = _refused(sql)
            assert expected in message, (sql, message)
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                       "AND t.tgname = 'incidents_incident_history'", [schema])
        assert cursor.fetchone() == ("O",)  # still there, still enabled
        transaction.set_rollback(True)
