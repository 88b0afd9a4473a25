"""The role matrix from outside: every tenant role against every action, anonymous,
and a Dairi login against Sidoarjo's host. A denied request changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from incidents.models import (
    Agency,
    Category,
    Dispatch,
    Incident,
    IncidentSettings,
    NumberBlock,
    PbxCredential,
    TimelineEntry,
)
from incidents.services import dispatching
from incidents.services import incidents as incident_services

ROLES = ["operator1", "supervisor", "damkar", "admin", "bupati", None]
OK, NO = "ok", "no"


def _world(tenant):
    """An incident dispatched to Damkar, a second one not dispatched, a block."""
    with schema_context(tenant.schema_name):
        op = User.objects.get(username="operator1")
        inc = incident_services.incident_create(
            data=incident_services.IncidentInput(category="fire", description="matrix", latitude=2.61,
                                        longitude=98.61, address="x", idempotency_key="matrix-1"),
            actor=op, is_test=True, force=True).incident
        other = incident_services.incident_create(
            data=incident_services.IncidentInput(category="crime", description="matrix 2", latitude=2.62,
                                        longitude=98.62, address="y", idempotency_key="matrix-2"),
            actor=op, is_test=True, force=True).incident
        damkar = Agency.objects.get(code="damkar")
        (dispatch,) = dispatching.dispatch_create(incident_id=inc.pk, agency_ids=[damkar.pk], actor=op)
        now = timezone.now()
        block = NumberBlock.objects.create(number="+6281260011011", blocked_from=now,
                                           blocked_until=now + timedelta(hours=24))
        return {"incident": inc.pk, "other": other.pk, "dispatch": dispatch.pk, "block": block.pk,
                "polres": Agency.objects.get(code="polres").pk,
                "category": Category.objects.get(code="other").pk}


def _state(tenant):
    with schema_context(tenant.schema_name):
        return (
            Incident.objects.count(), TimelineEntry.objects.count(), Dispatch.objects.count(),
            list(Dispatch.objects.order_by("pk").values_list("status", "version")),
            NumberBlock.objects.filter(lifted_at__isnull=False).count(),
            PbxCredential.objects.count(), User.objects.count(),
            list(Category.objects.order_by("pk").values_list("ack_target_minutes", flat=True)),
            IncidentSettings.load().prank_threshold,
        )


# action -> (method, path template, data, roles allowed)
ACTIONS = {
    "console": ("get", "/console/", None, {"operator1", "supervisor"}),
    "ringing_partial": ("get", "/console/calls/", None, {"operator1", "supervisor"}),
    "incident_list": ("get", "/incidents/", None, {"operator1", "supervisor", "bupati", "damkar"}),
    "incident_detail": ("get", "/incidents/{incident}/", None,
                        {"operator1", "supervisor", "bupati", "damkar"}),
    "incident_not_dispatched_to_me": ("get", "/incidents/{other}/", None,
                                      {"operator1", "supervisor", "bupati"}),
    "create_incident": ("post", "/incidents/", {"category": "fire", "latitude": "2.63",
                        "longitude": "98.63", "address": "z", "description": "d",
                        "idempotency_key": "matrix-new"}, {"operator1", "supervisor"}),
    "dispatch": ("post", "/incidents/{other}/dispatch/", {"agency": "{polres}"},
                 {"operator1", "supervisor"}),
    "acknowledge": ("post", "/dispatches/{dispatch}/advance/", {"status": "acknowledged"},
                    {"damkar"}),
    "reassign": ("post", "/dispatches/{dispatch}/reassign/", {"agency": "{polres}"},
                 {"supervisor"}),
    "close": ("post", "/incidents/{incident}/close/", {"note": "x"}, {"supervisor"}),
    "blocks": ("get", "/blocks/", None, {"supervisor"}),
    "lift_block": ("post", "/blocks/{block}/lift/", None, {"supervisor"}),
    "opd_console": ("get", "/opd/dispatches/", None, {"damkar"}),
    "supervisor_board": ("get", "/supervisor/board/", None, {"supervisor"}),
    "handover": ("get", "/supervisor/handover/?hours=12", None, {"supervisor", "bupati"}),
    "dashboard": ("get", "/dashboard/", None, {"operator1", "supervisor", "admin", "bupati"}),
    "manage_users": ("get", "/manage/users/", None, {"admin"}),
    "create_user": ("post", "/manage/users/", {"username": "matrixuser", "role": "viewer",
                    "password": "a-long-Passw0rd-112"}, {"admin"}),
    "set_targets": ("post", "/manage/categories/", {"category_id": "{category}", "name": "Lainnya",
                    "priority": "4", "ack_target_minutes": "7", "arrive_target_minutes": "70",
                    "active": "1"}, {"admin"}),
    "create_pbx_key": ("post", "/manage/pbx/", {"name": "PBX 2"}, {"admin"}),
    "settings": ("post", "/manage/settings/", {"prank_threshold": "5"}, {"admin"}),
}


def _fill(value, ids):
    return value.format(**ids) if isinstance(value, str) else value


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("username", ROLES)
def test_role_matrix(tenant_a, client_for, tenant_user, username, action):
    ids = _world(tenant_a)
    method, path, data, allowed = ACTIONS[action]
    client = client_for(tenant_a, tenant_user(tenant_a, username) if username else None)
    body = {k: _fill(v, ids) for k, v in (data or {}).items()}
    before = _state(tenant_a)
    response = getattr(client, method)(_fill(path, ids), body)
    if username is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert _state(tenant_a) == before
    elif username in allowed:
        assert response.status_code in (200, 302), response.content[:500]
        if method == "post":
            assert _state(tenant_a) != before
    else:
        assert response.status_code in (403, 404), (response.status_code, response.content[:300])
        assert _state(tenant_a) == before


@pytest.mark.parametrize("path", ["/console/", "/incidents/", "/supervisor/board/", "/opd/dispatches/",
                                  "/manage/users/", "/dashboard/"])
def test_dairi_login_means_nothing_on_sidoarjo(tenant_a, tenant_b, client_for, tenant_user, path):
    for username in ("operator1", "supervisor", "damkar", "admin", "bupati"):
        client = client_for(tenant_a, tenant_user(tenant_a, username))
        assert client.get("/", HTTP_HOST="dairi.localhost").status_code == 302
        response = client.get(path, HTTP_HOST="sidoarjo.localhost")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_dairi_incident_id_is_not_reachable_from_sidoarjo(tenant_a, tenant_b, client_for, tenant_user):
    ids = _world(tenant_a)
    sidoarjo_op = client_for(tenant_b, tenant_user(tenant_b, "operator1"))
    with schema_context(tenant_b.schema_name):
        exists_there = Incident.objects.filter(pk=ids["other"]).exists()
        before = Dispatch.objects.count()
    response = sidoarjo_op.get(f"/incidents/{ids['other']}/")
    assert response.status_code == (200 if exists_there else 404)
    if not exists_there:
        r = sidoarjo_op.post(f"/incidents/{ids['other']}/dispatch/", {"agency": ids["polres"]})
        assert r.status_code == 404
    with schema_context(tenant_b.schema_name):
        assert Dispatch.objects.count() == before


def test_everyone_lands_on_their_screen(tenant_a, client_for, tenant_user):
    expected = {"operator1": "/console/", "supervisor": "/supervisor/", "damkar": "/opd/",
                "admin": "/manage/users/", "bupati": "/laporan/"}
    for username, target in expected.items():
        client = client_for(tenant_a, tenant_user(tenant_a, username))
        response = client.get("/")
        assert response.status_code == 302 and response["Location"] == target
        assert client.get(target).status_code == 200


def test_caller_number_is_masked_for_responder_and_viewer(tenant_a, client_for, tenant_user):
    with schema_context(tenant_a.schema_name):
        op = User.objects.get(username="operator1")
        inc = incident_services.incident_create(
            data=incident_services.IncidentInput(category="fire", description="mask", latitude=2.64,
                                        longitude=98.64, address="m", caller="081260012345",
                                        idempotency_key="mask-1"),
            actor=op, is_test=True, force=True).incident
        dispatching.dispatch_create(incident_id=inc.pk, agency_ids=[Agency.objects.get(code="damkar").pk],
                                 actor=op)
    for username, shown in (("operator1", "+6281260012345"), ("supervisor", "+6281260012345"),
                            ("damkar", "+62812*****345"), ("bupati", "+62812*****345")):
        client = client_for(tenant_a, tenant_user(tenant_a, username))
        data = client.get(f"/incidents/{inc.pk}/", HTTP_ACCEPT="application/json").json()
        assert data["caller"] == shown
        html = client.get(f"/incidents/{inc.pk}/").content.decode()
        if shown.startswith("+62812*"):
            assert "+6281260012345" not in html


def test_national_and_provincial_logins_mean_nothing_on_a_pemda_host(tenant_a, client_for):
    from accounts.models import User as PublicUser

    for username in ("nasional", "prov.sumut", "koordinator.dairi"):
        with schema_context("public"):
            user = PublicUser.objects.get(username=username)
        client = client_for(None, user)
        for path in ("/console/", "/incidents/", "/manage/users/"):
            response = client.get(path, HTTP_HOST="dairi.localhost")
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        r = client.post("/incidents/", {"category": "fire", "address": "x", "description": "y"},
                        HTTP_HOST="dairi.localhost")
        assert r.status_code == 302 and "/accounts/login/" in r["Location"]
