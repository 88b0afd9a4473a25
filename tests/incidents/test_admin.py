"""Pemda admin pages: responders with their agency, PBX keys shown once and
revocable, routing order, targets and settings validated."""

from __future__ import annotations

import re

from django_tenants.utils import schema_context

from accounts.models import User
from incidents.models import (
    Agency,
    AgencyMember,
    Category,
    IncidentSettings,
    PbxCredential,
    RoutingRule,
)
from incidents.selectors import routing_suggestion

from .conftest import pbx_post


def test_admin_creates_a_responder_of_one_agency(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        bpbd = Agency.objects.get(code="bpbd")
    r = admin.post("/manage/users/", {"username": "bpbd1", "display_name": "Petugas BPBD",
                                      "role": "opd_responder", "agency": bpbd.pk,
                                      "password": "Bencana-Siaga-112!"})
    assert r.status_code == 302
    with schema_context(tenant_a.schema_name):
        user = User.objects.get(username="bpbd1")
        assert user.role == "opd_responder" and user.check_password("Bencana-Siaga-112!")
        assert AgencyMember.objects.get(user=user).agency == bpbd
    # A responder without an agency, a weak password, a duplicate username: refused.
    for bad, field in (({"username": "x1", "role": "opd_responder", "password": "Bencana-Siaga-112!"}, "agency"),
                       ({"username": "x2", "role": "viewer", "password": "123"}, "password"),
                       ({"username": "bpbd1", "role": "viewer", "password": "Bencana-Siaga-112!"}, "username"),
                       ({"username": "x3", "role": "national_officer", "password": "Bencana-Siaga-112!"}, "role")):
        with schema_context(tenant_a.schema_name):
            before = User.objects.count()
        r = admin.post("/manage/users/", bad, HTTP_ACCEPT="application/json")
        assert r.status_code == 400 and r.json()["field"] == field
        with schema_context(tenant_a.schema_name):
            assert User.objects.count() == before


def test_pbx_key_is_shown_once_works_and_can_be_revoked(tenant_a, as_user, client_for):
    admin = as_user(tenant_a, "admin")
    page = admin.post("/manage/pbx/", {"name": "IP-PBX gedung B"}).content.decode()
    key = re.search(r'id="new-key".*?<code>(pbx_[^<]+)</code>', page, re.S).group(1)
    assert key not in admin.get("/manage/pbx/").content.decode()
    with schema_context(tenant_a.schema_name):
        cred = PbxCredential.objects.get(name="IP-PBX gedung B")
        assert key not in (cred.key_hash, cred.key_prefix) and len(cred.key_hash) == 64
    pbx = client_for(tenant_a)
    body = {"event": "ringing", "call_id": "admin-key-1", "caller": "081260015015"}
    assert pbx_post(pbx, "/api/pbx/events/", body, key=key).status_code == 200
    assert admin.post(f"/manage/pbx/{cred.pk}/revoke/").status_code == 302
    body["call_id"] = "admin-key-2"
    assert pbx_post(pbx, "/api/pbx/events/", body, key=key).status_code == 401


def test_routing_order_targets_and_settings(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    with schema_context(tenant_a.schema_name):
        fire = Category.objects.get(code="fire")
    r = admin.post("/manage/categories/", {"category_id": fire.pk, "routing": "1",
                                           "agency_codes": "bpbd, damkar"})
    assert r.status_code == 302
    with schema_context(tenant_a.schema_name):
        assert [a.code for a in routing_suggestion(fire)] == ["bpbd", "damkar"]
        before = list(RoutingRule.objects.filter(category=fire).values_list("agency__code", flat=True))
    bad = admin.post("/manage/categories/", {"category_id": fire.pk, "routing": "1",
                                             "agency_codes": "bpbd, nasa"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "nasa" in bad.json()["error"]
    bad = admin.post("/manage/categories/", {"category_id": fire.pk, "name": "Kebakaran", "priority": "1",
                                             "ack_target_minutes": "20", "arrive_target_minutes": "10",
                                             "active": "1"}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "arrive_target_minutes"
    ok = admin.post("/manage/categories/", {"category_id": fire.pk, "name": "Kebakaran", "priority": "1",
                                            "ack_target_minutes": "2", "arrive_target_minutes": "12",
                                            "active": "1"})
    assert ok.status_code == 302
    bad = admin.post("/manage/settings/", {"area_min_lat": "3", "area_max_lat": "2"},
                     HTTP_ACCEPT="application/json")
    assert bad.status_code == 400
    with schema_context(tenant_a.schema_name):
        assert list(RoutingRule.objects.filter(category=fire).values_list("agency__code", flat=True)) == before
        fire.refresh_from_db()
        assert (fire.ack_target_minutes, fire.arrive_target_minutes) == (2, 12)
        assert IncidentSettings.load().area_max_lat != 2


def test_every_pemda_starts_with_the_seeded_defaults(tenant_c):
    """Kota Malang was cloned from the template: the data migration's rows came along."""
    from incidents.seed import AGENCIES, CATEGORIES, ROUTING

    with schema_context(tenant_c.schema_name):
        assert sorted(Category.objects.values_list("code", flat=True)) == sorted(c[0] for c in CATEGORIES)
        assert Agency.objects.count() == len(AGENCIES)
        assert RoutingRule.objects.count() == sum(len(v) for v in ROUTING.values())
        assert [a.code for a in routing_suggestion(Category.objects.get(code="violence_women_children"))] == [
            "dp3a", "polres", "psc119"]
        cfg = IncidentSettings.load()
        assert (cfg.prank_threshold, cfg.prank_window_hours, cfg.block_hours,
                cfg.duplicate_radius_m, cfg.duplicate_window_minutes) == (3, 24, 24, 500, 30)
        assert Category.objects.get(code="fire").priority == 1
