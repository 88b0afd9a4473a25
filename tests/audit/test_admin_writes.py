"""Every Pemda-admin configuration write, through its real page, leaves exactly
one row on that Pemda's audit trail in the same transaction: the right action,
only the fields that changed, never a secret; the admin reads it on
/manage/audit/. A refused request (anonymous, wrong role, another Pemda's admin)
and a refused write (invalid input) leave no row and change nothing."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from audit.models import AuditEntry
from incidents.models import Agency, AgencyMember, Category, IncidentSettings, NumberBlock

PASSWORD = "Bencana-Siaga-112!"
PAGE = "/manage/audit/"


def _client(tenant, username: str | None) -> Client:
    client = Client(HTTP_HOST=tenant.domains.get(is_primary=True).domain)
    if username is not None:
        with schema_context(tenant.schema_name):
            client.force_login(User.objects.get(username=username),
                               backend="django.contrib.auth.backends.ModelBackend")
    return client


def _new_rows(tenant, since: int) -> list[AuditEntry]:
    with schema_context(tenant.schema_name):
        return list(AuditEntry.objects.filter(pk__gt=since).order_by("id"))


def _mark(tenant) -> int:
    with schema_context(tenant.schema_name):
        last = AuditEntry.objects.order_by("-id").first()
        return last.pk if last else 0


def _one_row(tenant, since: int, action: str) -> AuditEntry:
    rows = _new_rows(tenant, since)
    assert [r.action for r in rows] == [action], [(r.action, r.before, r.after) for r in rows]
    return rows[0]


def _post(client: Client, path: str, data: dict, **extra):
    return client.post(path, data=json.dumps(data), content_type="application/json",
                       HTTP_ACCEPT="application/json", **extra)


def test_staff_changes_one_row_each_with_only_what_changed(tenant_a):
    admin = _client(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        bpbd, damkar = Agency.objects.get(code="bpbd"), Agency.objects.get(code="damkar")

    mark = _mark(tenant_a)
    assert _post(admin, "/manage/users/", {"username": "audit.resp", "display_name": "Resp",
                                           "role": "opd_responder", "agency": bpbd.pk,
                                           "password": PASSWORD}).status_code == 200
    created = _one_row(tenant_a, mark, "staff.created")
    with schema_context(tenant_a.schema_name):
        user = User.objects.get(username="audit.resp")
        password_hash = user.password
    assert created.before == {} and created.target_id == str(user.pk)
    assert created.after == {"username": "audit.resp", "display_name": "Resp",
                             "role": "opd_responder", "is_active": True, "password": "•••",
                             "agency": "bpbd"}
    assert created.actor_username == "admin" and created.actor_role == "pemda_admin"
    assert created.ip == "127.0.0.1"

    form = {"user_id": user.pk, "display_name": "Resp", "role": "opd_responder",
            "agency": bpbd.pk, "active": "1"}
    for change, action, before, after in [
        ({"display_name": "Petugas BPBD"}, "staff.updated",
         {"display_name": "Resp"}, {"display_name": "Petugas BPBD"}),
        ({"agency": damkar.pk}, "staff.updated", {"agency": "bpbd"}, {"agency": "damkar"}),
        ({"active": "0"}, "staff.updated", {"is_active": True}, {"is_active": False}),
        ({"password": "Sirene-Malam-9981"}, "staff.updated",
         {"password": "•••"}, {"password": "•••"}),
        ({"role": "viewer", "agency": ""}, "staff.role_changed",
         {"role": "opd_responder", "agency": "damkar"}, {"role": "viewer", "agency": None}),
    ]:
        form = {**form, **change}
        mark = _mark(tenant_a)
        response = _post(admin, "/manage/users/", form)
        assert response.status_code == 200, response.content
        row = _one_row(tenant_a, mark, action)
        assert (row.before, row.after) == (before, after), change
        form.pop("password", None)
    # The hash (or any of it) never reaches the trail.
    with schema_context(tenant_a.schema_name):
        for entry in AuditEntry.objects.filter(target_id=str(user.pk)):
            text = json.dumps([entry.before, entry.after])
            assert password_hash not in text and "pbkdf2" not in text and "Sirene" not in text
    # Saving the form unchanged writes no row.
    mark = _mark(tenant_a)
    assert _post(admin, "/manage/users/", form).status_code == 200
    assert _new_rows(tenant_a, mark) == []

    # The admin reads it on the audit page.
    page = admin.get(PAGE).content.decode()
    assert "audit.resp" in page or "Petugas BPBD" in page
    assert page.count('class="audit-entry"') >= 6


def test_configuration_changes_one_row_each(tenant_a):
    admin = _client(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire")
        fire_before = (fire.ack_target_minutes, fire.arrive_target_minutes)
        block_hours = IncidentSettings.load().block_hours

    mark = _mark(tenant_a)
    assert _post(admin, "/manage/agencies/", {
        "code": "audit-opd", "name": "OPD Audit", "kind": "other",
        "webhook_url": "https://opd.example.id/hook", "webhook_secret": "rahasia-webhook-123",
    }).status_code == 200
    created = _one_row(tenant_a, mark, "agency.created")
    assert created.after["code"] == "audit-opd" and created.after["webhook_secret"] == "•••"
    assert "rahasia" not in json.dumps([created.before, created.after])
    with schema_context(tenant_a.schema_name):
        agency = Agency.objects.get(code="audit-opd")

    mark = _mark(tenant_a)
    assert _post(admin, "/manage/agencies/", {"agency_id": agency.pk, "name": "OPD Audit 2",
                                              "kind": "other",
                                              "webhook_url": "https://opd.example.id/hook",
                                              "active": "0"}).status_code == 200
    updated = _one_row(tenant_a, mark, "agency.updated")
    assert (updated.before, updated.after) == ({"name": "OPD Audit", "active": True},
                                               {"name": "OPD Audit 2", "active": False})

    mark = _mark(tenant_a)
    assert _post(admin, "/manage/categories/", {
        "category_id": fire.pk, "name": fire.name, "priority": fire.priority,
        "ack_target_minutes": fire_before[0] + 1, "arrive_target_minutes": fire_before[1] + 1,
        "active": "1"}).status_code == 200
    category = _one_row(tenant_a, mark, "category.updated")
    assert (category.before, category.after) == (
        {"ack_target_minutes": fire_before[0], "arrive_target_minutes": fire_before[1]},
        {"ack_target_minutes": fire_before[0] + 1, "arrive_target_minutes": fire_before[1] + 1})

    mark = _mark(tenant_a)
    assert _post(admin, "/manage/categories/", {"category_id": fire.pk, "routing": "1",
                                                "agency_codes": "psc119, bpbd"}).status_code == 200
    routing = _one_row(tenant_a, mark, "routing.updated")
    assert routing.after == {"agencies": ["psc119", "bpbd"]} and routing.target_id == str(fire.pk)
    assert routing.before["agencies"] != ["psc119", "bpbd"]

    mark = _mark(tenant_a)
    assert _post(admin, "/manage/settings/", {"block_hours": block_hours + 6}).status_code == 200
    settings_row = _one_row(tenant_a, mark, "settings.updated")
    assert (settings_row.before, settings_row.after) == ({"block_hours": block_hours},
                                                         {"block_hours": block_hours + 6})

    mark = _mark(tenant_a)
    created = _post(admin, "/manage/pbx/", {"name": "PBX audit"})
    assert created.status_code == 201
    key, cred_id = created.json()["key"], created.json()["id"]
    pbx_row = _one_row(tenant_a, mark, "pbx_key.created")
    assert pbx_row.after == {"name": "PBX audit", "key_prefix": key.split("_")[1]}
    assert key.split("_", 2)[2] not in json.dumps(pbx_row.after)
    mark = _mark(tenant_a)
    assert _post(admin, f"/manage/pbx/{cred_id}/revoke/", {}).status_code == 200
    revoked = _one_row(tenant_a, mark, "pbx_key.revoked")
    assert revoked.before == {"revoked_at": None} and revoked.after["revoked_at"]
    mark = _mark(tenant_a)  # revoking again changes nothing, so no row
    assert _post(admin, f"/manage/pbx/{cred_id}/revoke/", {}).status_code == 200
    assert _new_rows(tenant_a, mark) == []

    page = admin.get(PAGE).content.decode()
    # Targets by name, fields in Indonesian words, the webhook secret masked.
    for label in ("OPD Audit 2", "PBX audit", fire.name, "lama blokir (jam)", "rahasia webhook",
                  "awalan kunci", "target konfirmasi (menit)"):
        assert label in page, label
    assert "rahasia-webhook-123" not in page


def test_a_supervisor_lifting_a_block_is_on_the_trail(tenant_a):
    now = timezone.now()
    with schema_context(tenant_a.schema_name):
        block = NumberBlock.objects.create(number="+6281260099077", blocked_from=now,
                                           blocked_until=now + dt.timedelta(hours=24))
    mark = _mark(tenant_a)
    assert _client(tenant_a, "operator1").post(f"/blocks/{block.pk}/lift/").status_code == 403
    assert _new_rows(tenant_a, mark) == []
    assert _client(tenant_a, "supervisor").post(f"/blocks/{block.pk}/lift/").status_code == 302
    row = _one_row(tenant_a, mark, "block.lifted")
    assert row.actor_username == "supervisor" and row.before == {"lifted_at": None}
    assert "+6281260099077" not in json.dumps([row.before, row.after, row.target_label])
    mark = _mark(tenant_a)  # lifted twice: refused (409), no second row
    assert _client(tenant_a, "supervisor").post(f"/blocks/{block.pk}/lift/").status_code == 409
    assert _new_rows(tenant_a, mark) == []


WRITES = [
    ("/manage/users/", {"username": "nobody.audit", "role": "viewer", "password": PASSWORD}),
    ("/manage/agencies/", {"code": "nobody-opd", "name": "Nobody", "kind": "other"}),
    ("/manage/categories/", {"category_id": "CATEGORY", "routing": "1", "agency_codes": "bpbd"}),
    ("/manage/settings/", {"block_hours": 7}),
    ("/manage/pbx/", {"name": "PBX nobody"}),
]


def _fingerprint(tenant) -> tuple:
    with schema_context(tenant.schema_name):
        return (
            AuditEntry.objects.count(),
            User.objects.filter(username="nobody.audit").exists(),
            Agency.objects.filter(code="nobody-opd").exists(),
            IncidentSettings.load().block_hours,
            list(AgencyMember.objects.values_list("user_id", "agency_id").order_by("user_id")),
        )


@pytest.mark.parametrize("who", ["anonymous", "operator1", "supervisor", "bupati", "damkar",
                                 "sidoarjo_admin"])
def test_refused_requests_write_no_audit_row(tenant_a, tenant_b, who):
    if who == "anonymous":
        client = _client(tenant_a, None)
    elif who == "sidoarjo_admin":
        # Sidoarjo's admin, with their own session cookie, on Dairi's host.
        client = _client(tenant_b, "admin")
        client.defaults["HTTP_HOST"] = tenant_a.domains.get(is_primary=True).domain
    else:
        client = _client(tenant_a, who)
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire").pk
    before = _fingerprint(tenant_a)
    for path, data in WRITES:
        data = {k: (fire if v == "CATEGORY" else v) for k, v in data.items()}
        response = client.post(path, data)
        assert response.status_code in (302, 403), (who, path, response.status_code)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], (who, path)
    assert _fingerprint(tenant_a) == before


def test_invalid_input_writes_no_audit_row(tenant_a):
    admin = _client(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire").pk
        me = User.objects.get(username="admin").pk
    before = _fingerprint(tenant_a)
    for path, data, status in [
        ("/manage/users/", {"username": "nobody.audit", "role": "viewer", "password": "123"}, 400),
        ("/manage/users/", {"username": "nobody.audit", "role": "opd_responder",
                            "password": PASSWORD}, 400),  # saved, then refused: rolled back
        ("/manage/users/", {"user_id": me, "role": "viewer", "active": "1"}, 409),
        ("/manage/agencies/", {"code": "nobody-opd", "name": "", "kind": "other"}, 400),
        ("/manage/categories/", {"category_id": fire, "routing": "1", "agency_codes": "nasa"}, 400),
        ("/manage/categories/", {"category_id": fire, "name": "Api", "priority": "9",
                                 "ack_target_minutes": "5", "arrive_target_minutes": "10"}, 400),
        ("/manage/settings/", {"block_hours": "0"}, 400),
        ("/manage/settings/", {"area_min_lat": "3", "area_max_lat": "2"}, 400),
        ("/manage/pbx/", {"name": ""}, 400),
    ]:
        response = _post(admin, path, data)
        assert response.status_code == status, (path, data, response.content)
    assert _fingerprint(tenant_a) == before
