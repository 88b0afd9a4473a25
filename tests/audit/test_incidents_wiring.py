"""Acceptance tests for phase 2: every Pemda-admin write of incidents/ (and a
supervisor lifting a number block) leaves its row on the Pemda's audit trail.

They go through the pages, not the services, so they hold across the split of
incidents/services.py (tests/audit/test_admin_writes.py checks each row's
before/after, refusals and invalid input)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from audit.models import AuditEntry
from incidents.models import Agency, Category, NumberBlock, PbxCredential


def _client(tenant, username: str) -> Client:
    client = Client(HTTP_HOST=tenant.domains.get(is_primary=True).domain)
    with schema_context(tenant.schema_name):
        client.force_login(User.objects.get(username=username),
                           backend="django.contrib.auth.backends.ModelBackend")
    return client


def _rows(tenant, since: int, action: str) -> list[AuditEntry]:
    with schema_context(tenant.schema_name):
        return list(AuditEntry.objects.filter(pk__gt=since, action=action).order_by("id"))


def _mark(tenant) -> int:
    with schema_context(tenant.schema_name):
        last = AuditEntry.objects.order_by("-id").first()
        return last.pk if last else 0


def test_staff_created_and_role_changed(tenant_a):
    admin, mark = _client(tenant_a, "admin"), _mark(tenant_a)
    assert admin.post("/manage/users/", {"username": "audit.staff", "display_name": "A",
                                         "role": "viewer", "password": "Bencana-Siaga-112!"}
                      ).status_code == 302
    with schema_context(tenant_a.schema_name):
        user = User.objects.get(username="audit.staff")
    (created,) = _rows(tenant_a, mark, "staff.created")
    assert created.target_id == str(user.pk) and created.after["role"] == "viewer"
    assert "Bencana" not in str(created.after)
    assert admin.post("/manage/users/", {"user_id": user.pk, "display_name": "A",
                                         "role": "supervisor"}).status_code == 302
    (changed,) = _rows(tenant_a, mark, "staff.role_changed")
    assert (changed.before, changed.after) == ({"role": "viewer"}, {"role": "supervisor"})


def test_agency_created_and_updated(tenant_a):
    admin, mark = _client(tenant_a, "admin"), _mark(tenant_a)
    assert admin.post("/manage/agencies/", {"code": "audit-opd", "name": "OPD Audit",
                                            "kind": "other"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        agency = Agency.objects.get(code="audit-opd")
    assert len(_rows(tenant_a, mark, "agency.created")) == 1
    assert admin.post("/manage/agencies/", {"agency_id": agency.pk, "name": "OPD Audit 2",
                                            "kind": "other"}).status_code == 302
    (updated,) = _rows(tenant_a, mark, "agency.updated")
    assert (updated.before["name"], updated.after["name"]) == ("OPD Audit", "OPD Audit 2")


def test_category_targets_and_routing(tenant_a):
    admin, mark = _client(tenant_a, "admin"), _mark(tenant_a)
    with schema_context(tenant_a.schema_name):
        category = Category.objects.filter(active=True).first()
    assert admin.post("/manage/categories/", {
        "category_id": category.pk, "name": category.name, "priority": category.priority,
        "ack_target_minutes": category.ack_target_minutes + 1,
        "arrive_target_minutes": category.arrive_target_minutes + 1, "active": "1",
    }).status_code == 302
    (updated,) = _rows(tenant_a, mark, "category.updated")
    assert updated.after["ack_target_minutes"] == category.ack_target_minutes + 1
    assert admin.post("/manage/categories/", {"category_id": category.pk, "routing": "1",
                                              "agency_codes": "bpbd,damkar"}).status_code == 302
    assert len(_rows(tenant_a, mark, "routing.updated")) == 1


def test_settings(tenant_a):
    admin, mark = _client(tenant_a, "admin"), _mark(tenant_a)
    assert admin.post("/manage/settings/", {"block_hours": 12}).status_code == 302
    (updated,) = _rows(tenant_a, mark, "settings.updated")
    assert updated.after == {"block_hours": 12}


def test_pbx_key_created_and_revoked(tenant_a):
    admin, mark = _client(tenant_a, "admin"), _mark(tenant_a)
    response = admin.post("/manage/pbx/", {"name": "PBX audit"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    key = response.json()["key"]
    (created,) = _rows(tenant_a, mark, "pbx_key.created")
    assert key not in str(created.after) and key.split("_", 2)[2] not in str(created.after)
    with schema_context(tenant_a.schema_name):
        cred = PbxCredential.objects.get(name="PBX audit")
    assert admin.post(f"/manage/pbx/{cred.pk}/revoke/").status_code == 302
    assert len(_rows(tenant_a, mark, "pbx_key.revoked")) == 1


def test_block_lifted_by_a_supervisor(tenant_a):
    now = timezone.now()
    with schema_context(tenant_a.schema_name):
        block = NumberBlock.objects.create(number="+6281260099099", blocked_from=now,
                                           blocked_until=now + dt.timedelta(hours=24))
    mark = _mark(tenant_a)
    assert _client(tenant_a, "supervisor").post(f"/blocks/{block.pk}/lift/").status_code == 302
    (lifted,) = _rows(tenant_a, mark, "block.lifted")
    assert lifted.actor_username == "supervisor" and lifted.target_id == str(block.pk)
