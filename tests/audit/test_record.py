"""audit.services: only what changed is kept, secrets never, and the row lives
and dies with the caller's transaction."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from audit.models import AuditEntry
from audit.services import MASK, Target, diff, record, snapshot, tracking
from tenants.models import Tenant
from tenants.services import tenant_set_status


def test_diff_keeps_only_changed_fields():
    assert diff({"a": 1, "b": "x", "c": None}, {"a": 1, "b": "y", "d": 2}) == (
        {"b": "x", "c": None}, {"b": "y", "d": 2})
    assert diff({"a": 1}, {"a": 1}) == ({}, {})


def test_snapshot_masks_secrets_but_sees_them_change(tenant_a):
    with schema_context(tenant_a.schema_name):
        user = User.objects.get(username="operator1")
        before = snapshot(user)
        assert before["password"].startswith("sha256:") and before["role"] == "call_taker"
        user.set_password("Another-secret-112")
        old, new = diff(before, snapshot(user))
        assert old == {"password": MASK} and new == {"password": MASK}


def test_record_refuses_unknown_codes_and_skips_no_change(tenant_a):
    with schema_context(tenant_a.schema_name):
        count = AuditEntry.objects.count()
        with pytest.raises(ValueError):
            record(actor=None, action="made.up", target=Target("x", "1", "x"))
        assert record(actor=None, action="settings.updated", target=Target("x", "1", "x"),
                      before={"a": 1}, after={"a": 1}) is None
        assert AuditEntry.objects.count() == count


def test_tracking_records_the_change_and_nothing_when_the_block_fails(tenant_a):
    with schema_context(tenant_a.schema_name):
        admin = User.objects.get(username="admin")
        user = User.objects.get(username="operator2")
        with tracking(actor=admin, action="staff.role_changed", target=user,
                      fields=["role", "display_name"]):
            user.role = "supervisor"
            user.save()
        entry = AuditEntry.objects.order_by("-id").first()
        assert (entry.action, entry.before, entry.after) == (
            "staff.role_changed", {"role": "call_taker"}, {"role": "supervisor"})
        assert (entry.actor_id, entry.actor_username, entry.actor_role) == (
            admin.pk, "admin", "pemda_admin")
        assert (entry.target_type, entry.target_id) == ("user", str(user.pk))
        count = AuditEntry.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            with tracking(actor=admin, action="staff.updated", target=user):
                user.display_name = "Changed"
                user.save()
                raise RuntimeError("refused half-way")
        assert AuditEntry.objects.count() == count
        assert User.objects.get(pk=user.pk).display_name != "Changed"


def test_a_rolled_back_change_leaves_no_audit_row(tenant_c):
    before = tenant_c.status
    target = "live" if before != "live" else "trial"
    rows = AuditEntry.objects.filter(action="tenant.status_changed", target_id=str(tenant_c.pk))
    count = rows.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        tenant_set_status(region_id=tenant_c.region_id, status=target, actor=None)
        assert rows.count() == count + 1
        raise RuntimeError("the caller fails after the write")
    assert Tenant.objects.get(pk=tenant_c.pk).status == before
    assert rows.count() == count


def _other_connection_sees(tenant_pk: int) -> tuple[str, list[tuple[str, dict]]]:
    s = connection.settings_dict
    with psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                         host=s["HOST"] or None, port=s["PORT"] or None) as other:
        status = other.execute("SELECT status FROM public.tenants_tenant WHERE id = %s",
                               [tenant_pk]).fetchone()[0]
        rows = other.execute(
            "SELECT action, after FROM public.audit_auditentry "
            "WHERE target_type = 'tenant' AND target_id = %s ORDER BY id", [str(tenant_pk)],
        ).fetchall()
    return status, rows


def test_the_audit_row_commits_with_the_change(committed):
    tenant = Tenant.objects.exclude(region__isnull=True).exclude(
        region__code__in=["12.11", "35.15", "35.73"]).order_by("schema_name").first()
    original = tenant.status
    changed = "live" if original != "live" else "trial"
    try:
        tenant_set_status(region_id=tenant.region_id, status=changed, actor=None)
        status, rows = _other_connection_sees(tenant.pk)
        assert status == changed
        assert rows[-1] == ("tenant.status_changed", {"status": changed})
    finally:
        tenant_set_status(region_id=tenant.region_id, status=original, actor=None)
        # Leave the shared database as found: the purge path of the trigger.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL siaga112.purge = 'on'")
            cursor.execute("DELETE FROM audit_auditentry WHERE action = 'tenant.status_changed' "
                           "AND target_id = %s", [str(tenant.pk)])


def test_tracking_tells_creation_and_role_changes_apart(tenant_a):
    def staff_action(before: dict, after: dict) -> str:
        return "staff.role_changed" if before.get("role") != after.get("role") else "staff.updated"

    fields = ["username", "display_name", "role", "is_active", "password"]
    with schema_context(tenant_a.schema_name):
        admin = User.objects.get(username="admin")
        user = User(username="audit.new", role="viewer")
        with tracking(actor=admin, action=staff_action, created_action="staff.created",
                      target=user, fields=fields):
            user.set_password("Pimpinan-Baru-112")
            user.save()
        created = AuditEntry.objects.order_by("-id").first()
        assert (created.action, created.before, created.target_id) == (
            "staff.created", {}, str(user.pk))
        assert created.after["role"] == "viewer" and created.after["password"] == MASK
        with tracking(actor=admin, action=staff_action, target=user, fields=fields):
            user.display_name = "Wakil Bupati"
            user.save()
        with tracking(actor=admin, action=staff_action, target=user, fields=fields):
            user.role = "supervisor"
            user.save()
        role_changed, updated = AuditEntry.objects.order_by("-id")[:2]
        assert (updated.action, updated.after) == ("staff.updated", {"display_name": "Wakil Bupati"})
        assert (role_changed.action, role_changed.before) == ("staff.role_changed", {"role": "viewer"})


def test_tracking_with_an_image_beyond_the_row(tenant_a):
    from incidents.models import Agency, AgencyMember

    with schema_context(tenant_a.schema_name):
        admin = User.objects.get(username="admin")
        damkar = User.objects.get(username="damkar")
        bpbd = Agency.objects.get(code="bpbd")

        def staff_image(user: User) -> dict:
            member = AgencyMember.objects.filter(user_id=user.pk).select_related("agency").first()
            return {"role": user.role, "agency": member.agency.code if member else None}

        with tracking(actor=admin, action="staff.updated", target=damkar, image=staff_image):
            AgencyMember.objects.update_or_create(user=damkar, defaults={"agency": bpbd})
        entry = AuditEntry.objects.order_by("-id").first()
        assert (entry.before, entry.after) == ({"agency": "damkar"}, {"agency": "bpbd"})
