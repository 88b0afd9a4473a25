"""An OPD with no unit to send says so, with a reason, and the supervisor sees it
at once — instead of the dispatch sitting unacknowledged until the timer fires."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from incidents.models import Agency, Dispatch, Incident, TimelineEntry
from incidents.services.dispatching import dispatches_escalate

from .conftest import post_json

pytestmark = pytest.mark.django_db


def _dispatched(tenant, as_user, key: str, agency_code: str = "damkar") -> Dispatch:
    operator = as_user(tenant, "operator1")
    created = post_json(operator, "/incidents/", {
        "category": "fire", "latitude": "2.74", "longitude": "98.31", "address": "Pasar",
        "description": "asap tebal", "idempotency_key": key, "force": "1"})
    assert created.status_code == 201, created.content
    with schema_context(tenant.schema_name):
        agency = Agency.objects.get(code=agency_code)
    operator.post(f"/incidents/{created.json()['id']}/dispatch/", {"agency": agency.pk})
    with schema_context(tenant.schema_name):
        return Dispatch.objects.get(incident_id=created.json()["id"], agency=agency)


def _snapshot(tenant, dispatch_id: int) -> tuple:
    with schema_context(tenant.schema_name):
        d = Dispatch.objects.get(pk=dispatch_id)
        return (d.status, d.escalation_reason, d.note, d.version,
                TimelineEntry.objects.filter(dispatch_id=dispatch_id, kind="no_unit").count())


def test_the_responder_reports_no_unit_and_the_supervisor_sees_it(tenant_a, as_user):
    dispatch = _dispatched(tenant_a, as_user, "no-unit-1")
    damkar = as_user(tenant_a, "damkar")
    card = damkar.get("/opd/dispatches/").content.decode()
    assert f'action="/dispatches/{dispatch.pk}/no-unit/"' in card
    assert f'href="/incidents/{dispatch.incident_id}/"' in card  # the card links to the incident

    answer = damkar.post(f"/dispatches/{dispatch.pk}/no-unit/",
                         {"reason": "kedua mobil di kebakaran pasar"})
    assert answer.status_code == 302
    status, reason, note, _, entries = _snapshot(tenant_a, dispatch.pk)
    assert (status, reason, note, entries) == ("pending", "no_unit",
                                               "kedua mobil di kebakaran pasar", 1)

    board = as_user(tenant_a, "supervisor").get("/supervisor/board/").content.decode()
    assert "tidak ada unit tersedia" in board and "kedua mobil di kebakaran pasar" in board
    live = as_user(tenant_a, "supervisor").get(
        f"/incidents/{dispatch.incident_id}/live/").content.decode()
    assert "tidak ada unit tersedia" in live

    # The ack timer firing later keeps the OPD's own reason in front of the supervisor.
    with schema_context(tenant_a.schema_name):
        Dispatch.objects.filter(pk=dispatch.pk).update(
            dispatched_at=Dispatch.objects.get(pk=dispatch.pk).dispatched_at
            - __import__("datetime").timedelta(hours=2))
        dispatches_escalate()
    assert _snapshot(tenant_a, dispatch.pk)[1] == "no_unit"

    again = post_json(damkar, f"/dispatches/{dispatch.pk}/no-unit/", {"reason": "lagi"})
    assert again.status_code == 409


def test_a_reason_is_required_and_nothing_changes_without_it(tenant_a, as_user):
    dispatch = _dispatched(tenant_a, as_user, "no-unit-2")
    before = _snapshot(tenant_a, dispatch.pk)
    for reason in ("", "  ", "x" * 501):
        answer = post_json(as_user(tenant_a, "damkar"), f"/dispatches/{dispatch.pk}/no-unit/",
                           {"reason": reason})
        assert answer.status_code == 400 and answer.json()["field"] == "reason"
    assert _snapshot(tenant_a, dispatch.pk) == before


@pytest.mark.parametrize("who", [None, "operator1", "supervisor", "bupati", "psc119", "admin"])
def test_only_the_dispatched_agency_may_report_it(tenant_a, as_user, client_for, who):
    dispatch = _dispatched(tenant_a, as_user, f"no-unit-deny-{who}")
    before = _snapshot(tenant_a, dispatch.pk)
    client = client_for(tenant_a) if who is None else as_user(tenant_a, who)
    answer = client.post(f"/dispatches/{dispatch.pk}/no-unit/", {"reason": "tidak ada"})
    assert answer.status_code in (302, 403, 404)
    if who is None:
        assert "/login" in answer["Location"]
    assert _snapshot(tenant_a, dispatch.pk) == before


def test_another_pemdas_responder_cannot_reach_it(tenant_a, tenant_b, as_user):
    dispatch = _dispatched(tenant_a, as_user, "no-unit-other-pemda")
    before = _snapshot(tenant_a, dispatch.pk)
    answer = as_user(tenant_b, "damkar").post(f"/dispatches/{dispatch.pk}/no-unit/",
                                              {"reason": "tidak ada"})
    assert answer.status_code in (403, 404)
    assert _snapshot(tenant_a, dispatch.pk) == before
    with schema_context(tenant_a.schema_name):
        assert Incident.objects.filter(pk=dispatch.incident_id).exists()
