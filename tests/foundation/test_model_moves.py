"""AdminInvitation moved from `onboarding` to `accounts` by state-only
migrations. Proven on a real database: the public schema and two Pemda schemas
are put back where main left them (the pre-move migrations), an invitation is
written with main's model, and `migrate_all` (what a deployment runs) moves
them forward. The row must come out intact through accounts' model and on its
Pemda's host. DDL is transactional: the test's rollback restores everything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.utils import timezone

from accounts.invitations import token_hash
from accounts.models import AdminInvitation
from tenants.migrating import migrate_all, schemas_behind

PRE_MOVE = [("accounts", "0001_initial"), ("onboarding", "0002_evidence_timeline_invitation")]
MOVE = {("accounts", "0002_admininvitation_from_onboarding"),
        ("onboarding", "0003_move_admininvitation_to_accounts")}
TOKEN = "i7b-token-written-before-the-move"


def _migrate(schema: str, targets: list[tuple[str, str]]) -> MigrationExecutor:
    if schema == "public":
        connection.set_schema_to_public()
    else:
        connection.set_schema(schema)
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    connection.set_schema_to_public()
    return MigrationExecutor(connection)


def _applied(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations')  # noqa: S608
        return set(cursor.fetchall())


def _tables(name: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s", [name]
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_invitations_written_before_the_move_survive_migrate_all(tenant_a, tenant_b):
    schemas = ["public", "tenant_template", tenant_a.schema_name, tenant_b.schema_name]
    for schema in schemas:
        _migrate(schema, PRE_MOVE)
        assert not (MOVE & _applied(schema)), schema
    assert schemas_behind(schemas) == schemas

    # The database as main left it: the model belongs to onboarding.
    state = MigrationExecutor(connection).loader.project_state(PRE_MOVE)
    assert ("accounts", "admininvitation") not in state.models
    OldInvitation = state.apps.get_model("onboarding", "AdminInvitation")
    expires = timezone.now() + dt.timedelta(hours=24)
    old = OldInvitation.objects.create(
        region_id=tenant_a.region_id, email="kominfo@dairikab.go.id",
        token_hash=token_hash(TOKEN), expires_at=expires,
    )
    rows_before = OldInvitation.objects.count()

    result = migrate_all()

    assert {"public", "tenant_template", tenant_a.schema_name, tenant_b.schema_name} <= set(
        result.migrated)
    assert schemas_behind(schemas) == []
    for schema in schemas:
        assert MOVE <= _applied(schema), schema
    # Same table, same rows, no copy anywhere: only public holds invitations.
    assert _tables("onboarding_admininvitation") == {"public"}
    assert _tables("accounts_admininvitation") == set()
    assert AdminInvitation.objects.count() == rows_before
    moved = AdminInvitation.objects.get(pk=old.pk)
    assert (moved.region_id, moved.email, moved.token_hash, moved.expires_at, moved.used_at) == (
        tenant_a.region_id, "kominfo@dairikab.go.id", token_hash(TOKEN), expires, None)
    # And the Pemda's host still finds it (its search path ends in public).
    page = Client(HTTP_HOST="dairi.localhost").get(f"/accounts/invite/{TOKEN}/")
    assert page.status_code == 200 and b'name="password1"' in page.content
    assert Client(HTTP_HOST="sidoarjo.localhost").get(
        f"/accounts/invite/{TOKEN}/").status_code == 404
