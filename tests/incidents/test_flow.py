"""The whole path over HTTP: PBX ringing -> answer -> incident -> dispatch ->
acknowledge -> depart -> arrive -> resolve -> close, timeline and timers checked."""

from __future__ import annotations

import re
import uuid

from django_tenants.utils import schema_context

from incidents.models import Call, Dispatch, Incident, TimelineEntry

from .conftest import pbx_post


def test_call_to_resolved_incident_over_http(tenant_a, as_user, client_for):
    pbx = client_for(tenant_a)
    op1, op2 = as_user(tenant_a, "operator1"), as_user(tenant_a, "operator2")
    damkar, supervisor = as_user(tenant_a, "damkar"), as_user(tenant_a, "supervisor")
    call_id = f"flow-{uuid.uuid4().hex[:8]}"

    # A ringing call shows on every operator's console partial.
    r = pbx_post(pbx, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                            "caller": "0812 6000 1122", "trunk": "T1"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "ringing"
    assert "+6281260001122" in op2.get("/console/calls/").content.decode()
    with schema_context(tenant_a.schema_name):
        call = Call.objects.get(external_id=call_id)
        assert call.is_test is True  # Dairi is in trial
    # operator1 answers from the console; it leaves the ringing list for operator2.
    r = op1.post(f"/calls/{call.pk}/answer/")
    assert r.status_code == 302 and r["Location"] == f"/console/?call={call.pk}"
    assert "+6281260001122" not in op2.get("/console/calls/").content.decode()
    page = op1.get(r["Location"]).content.decode()
    assert f'name="call" value="{call.pk}"' in page and "autofocus" in page

    # The incident: the fewest fields.
    key = uuid.uuid4().hex
    r = op1.post("/incidents/", {"category": "fire", "latitude": "2.7301", "longitude": "98.3001",
                                 "address": "Jl. Uji Alur 1", "description": "Rumah terbakar",
                                 "call": call.pk, "idempotency_key": key})
    assert r.status_code == 302, r.content.decode()[:2000]
    incident_id = int(re.search(r"/incidents/(\d+)/", r["Location"]).group(1))
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.get(pk=incident_id)
        assert incident.caller == "+6281260001122" and incident.is_test
        assert incident.reference.startswith("INC-")
        assert Call.objects.get(pk=call.pk).incident_id == incident_id
        damkar_id = incident.category.routing_rules.order_by("order").first().agency_id
    detail = op1.get(f"/incidents/{incident_id}/").content.decode()
    assert "Damkar" in detail and f'value="{damkar_id}"' in detail  # routing suggestion

    # One click: dispatch to the suggested agency.
    r = op1.post(f"/incidents/{incident_id}/dispatch/", {"agency": damkar_id})
    assert r.status_code == 302
    assert incident.reference in damkar.get("/opd/dispatches/").content.decode()
    with schema_context(tenant_a.schema_name):
        dispatch = Dispatch.objects.get(incident_id=incident_id)
    # Out of order: arrive before acknowledge.
    r = damkar.post(f"/dispatches/{dispatch.pk}/advance/", {"status": "arrived"},
                    HTTP_ACCEPT="application/json")
    assert r.status_code == 409 and "acknowledged" in r.json()["error"]
    for status in ("acknowledged", "departed", "arrived"):
        r = damkar.post(f"/dispatches/{dispatch.pk}/advance/", {"status": status})
        assert r.status_code == 302, (status, r.content)
    # Resolve needs an outcome.
    r = damkar.post(f"/dispatches/{dispatch.pk}/advance/", {"status": "resolved"},
                    HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and r.json()["field"] == "outcome"
    r = damkar.post(f"/dispatches/{dispatch.pk}/advance/",
                    {"status": "resolved", "outcome": "handled", "note": "Api padam"})
    assert r.status_code == 302

    with schema_context(tenant_a.schema_name):
        dispatch.refresh_from_db()
        incident.refresh_from_db()
        assert dispatch.status == "resolved" and dispatch.outcome == "handled"
        stamps = [dispatch.dispatched_at, dispatch.acknowledged_at, dispatch.departed_at,
                  dispatch.arrived_at, dispatch.resolved_at]
        assert all(stamps) and stamps == sorted(stamps)
        assert incident.status == "resolved"
        kinds = list(TimelineEntry.objects.filter(incident=incident).values_list("kind", flat=True))
        assert kinds == ["created", "call_attached", "dispatched", "status", "acknowledged",
                         "departed", "arrived", "resolved", "status"]
        actors = dict(TimelineEntry.objects.filter(incident=incident)
                      .values_list("kind", "actor__username"))
        assert actors["dispatched"] == "operator1" and actors["arrived"] == "damkar"
        arrived = TimelineEntry.objects.get(incident=incident, kind="arrived")
        assert arrived.data["seconds_since_dispatch"] == round(
            (dispatch.arrived_at - dispatch.dispatched_at).total_seconds(), 1)

    # The supervisor closes it.
    r = supervisor.post(f"/incidents/{incident_id}/close/", {"note": "selesai"})
    assert r.status_code == 302
    with schema_context(tenant_a.schema_name):
        incident.refresh_from_db()
        assert incident.status == "closed" and incident.closed_by.username == "supervisor"
    timeline = op1.get(f"/incidents/{incident_id}/", HTTP_ACCEPT="application/json").json()
    assert [e["kind"] for e in timeline["timeline"]][-1] == "status"
    assert timeline["timeline"][-1]["data"] == {"from": "resolved", "to": "closed",
                                                "note": "selesai"}
