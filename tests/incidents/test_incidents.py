"""Incident intake rules: duplicates offered, double submit makes one, bad input
refused with the field named and nothing saved, outside-area warning."""

from __future__ import annotations

import uuid
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import schema_context

from incidents.models import Agency, Dispatch, Incident, IncidentSettings, TimelineEntry

from .conftest import post_json


def _form(**over):
    data = {"category": "fire", "latitude": "2.6001", "longitude": "98.1001",
            "address": "Jl. Uji", "description": "Uji", "idempotency_key": uuid.uuid4().hex}
    data.update(over)
    return data


def _count(tenant):
    with schema_context(tenant.schema_name):
        return (Incident.objects.count(), TimelineEntry.objects.count(), Dispatch.objects.count())


def test_double_submit_creates_one_incident(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    before = _count(tenant_a)[0]
    form = _form(latitude="2.5101", longitude="98.0501")
    first = op.post("/incidents/", form)
    second = op.post("/incidents/", form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert _count(tenant_a)[0] == before + 1
    again = post_json(op, "/incidents/", form)
    assert again.status_code == 200 and again.json()["created"] is False


def test_duplicate_is_offered_nearby_same_category(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    r = post_json(op, "/incidents/", _form(latitude="2.5501", longitude="98.0801"))
    assert r.status_code == 201
    ref = r.json()["reference"]
    before = _count(tenant_a)
    # ~300 m away, same category, minutes later: offered instead of created.
    form = _form(latitude="2.5528", longitude="98.0801")
    page = op.post("/incidents/", form)
    assert page.status_code == 200
    html = page.content.decode()
    assert "duplicate-offer" in html and ref in html and 'name="force" value="1"' in html
    assert _count(tenant_a) == before
    # Another category at the same spot is not a duplicate.
    assert post_json(op, "/incidents/", _form(category="medical", latitude="2.5528",
                                              longitude="98.0801")).status_code == 201
    # Far away (> 500 m): not a duplicate either.
    assert post_json(op, "/incidents/", _form(latitude="2.5601", longitude="98.0801")).status_code == 201
    # The operator may still create it.
    forced = op.post("/incidents/", dict(form, force="1"))
    assert forced.status_code == 302


def test_duplicate_is_offered_for_the_same_caller(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    assert post_json(op, "/incidents/", _form(caller="081260010010", latitude="2.9001",
                                              longitude="98.5001")).status_code == 201
    r = post_json(op, "/incidents/", _form(category="medical", caller="+6281260010010",
                                           latitude="2.6801", longitude="98.2001"))
    assert r.status_code == 409 and r.json()["duplicate"] is True
    assert len(r.json()["candidates"]) == 1


def test_outside_the_pemda_area_is_saved_with_a_warning(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    with schema_context(tenant_a.schema_name):
        cfg = IncidentSettings.load()
        assert cfg.area_min_lat is not None  # demo: Dairi's bounding box
    r = post_json(op, "/incidents/", _form(latitude="3.5952", longitude="98.6722",
                                           address="Medan"))
    assert r.status_code == 201 and r.json()["outside_area"] is True
    page = op.get(f"/incidents/{r.json()['id']}/").content.decode()
    assert 'id="outside-area"' in page
    inside = post_json(op, "/incidents/", _form(latitude="2.7001", longitude="98.3501"))
    assert inside.json()["outside_area"] is False


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"latitude": "-12.5", "longitude": "98.1"}, "latitude"),
        ({"latitude": "2.6", "longitude": "150.0"}, "longitude"),
        ({"latitude": "51.5", "longitude": "-0.12"}, "latitude"),
        ({"latitude": "abc"}, "latitude"),
        ({"longitude": ""}, "longitude"),
        ({"category": "alien_invasion"}, "category"),
        ({"category": ""}, "category"),
        ({"description": "  "}, "description"),
        ({"latitude": "", "longitude": "", "address": ""}, "address"),
        ({"caller": "0812 CALL ME"}, "caller"),
        ({"caller": "123"}, "caller"),
    ],
)
def test_bad_incident_input_is_refused(tenant_a, as_user, over, field):
    op = as_user(tenant_a, "operator1")
    before = _count(tenant_a)
    r = post_json(op, "/incidents/", _form(**over))
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field and r.json()["error"]
    # The HTML form answers 400 too, with the message on the page.
    page = op.post("/incidents/", _form(**over))
    assert page.status_code == 400 and 'id="form-error"' in page.content.decode()
    assert _count(tenant_a) == before


def test_dispatch_to_an_agency_of_another_pemda_is_refused(tenant_a, tenant_b, as_user):
    with schema_context(tenant_b.schema_name):
        foreign = Agency.objects.create(code=f"x{uuid.uuid4().hex[:6]}", name="Only in Sidoarjo")
    with schema_context(tenant_a.schema_name):
        assert not Agency.objects.filter(pk=foreign.pk).exists()
    op = as_user(tenant_a, "operator1")
    created = post_json(op, "/incidents/", _form(latitude="2.6201", longitude="98.1201"))
    incident_id = created.json()["id"]
    before = _count(tenant_a)
    r = op.post(f"/incidents/{incident_id}/dispatch/", {"agency": foreign.pk},
                HTTP_ACCEPT="application/json")
    assert r.status_code == 400 and r.json()["field"] == "agency"
    r = op.post(f"/incidents/{incident_id}/dispatch/", {"agency": "damkar"},
                HTTP_ACCEPT="application/json")
    assert r.status_code == 400
    assert _count(tenant_a) == before


def test_second_dispatch_to_the_same_agency_is_refused(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    incident_id = post_json(op, "/incidents/", _form(latitude="2.6301", longitude="98.1301")).json()["id"]
    with schema_context(tenant_a.schema_name):
        damkar = Agency.objects.get(code="damkar").pk
    assert op.post(f"/incidents/{incident_id}/dispatch/", {"agency": damkar}).status_code == 302
    before = _count(tenant_a)
    r = op.post(f"/incidents/{incident_id}/dispatch/", {"agency": damkar}, HTTP_ACCEPT="application/json")
    assert r.status_code == 409
    assert _count(tenant_a) == before


def test_dispatch_writes_outbox_rows_in_the_same_transaction(tenant_a, as_user):
    from outbox.models import OutboxMessage

    op = as_user(tenant_a, "operator1")
    with schema_context(tenant_a.schema_name):
        agency = Agency.objects.get(code="bpbd")
        agency.email = "pusdalops@bpbd.example.go.id"
        agency.webhook_url = "https://bpbd.example.go.id/hook"
        agency.webhook_secret = "s3cret-s3cret-s3cret"
        agency.save()
    incident_id = post_json(op, "/incidents/", _form(category="natural_disaster", latitude="2.6401",
                                                     longitude="98.1401")).json()["id"]
    r = op.post(f"/incidents/{incident_id}/dispatch/", {"agency": agency.pk})
    assert r.status_code == 302
    with schema_context(tenant_a.schema_name):
        dispatch = Dispatch.objects.get(incident_id=incident_id)
        rows = OutboxMessage.objects.filter(dedupe_key__contains=f":dispatch:{dispatch.pk}:")
        assert sorted(rows.values_list("channel", "receiver")) == [
            ("email", "pusdalops@bpbd.example.go.id"), ("webhook", "https://bpbd.example.go.id/hook")]
        webhook = rows.get(channel="webhook")
        assert webhook.secret == "s3cret-s3cret-s3cret"
        assert webhook.payload["incident"]["reference"] == Incident.objects.get(pk=incident_id).reference
        assert "caller" not in str(webhook.payload)
        # The e-mail is for a person on duty: Indonesian, local time, a link to act on.
        incident = Incident.objects.get(pk=incident_id)
        text = rows.get(channel="email").payload["text"]
        assert text.startswith(f"Penugasan baru untuk {agency.name}")
        assert f"{incident.reference} - {incident.category.name} (P{incident.priority})" in text
        assert "(2.64010, 98.14010)" in text and text.count(" WIB") == 1
        assert "http://dairi.localhost:8000/opd/" in text
        assert "{'" not in text and (incident.caller or "+62") not in text
        # The template (incidents/email/dispatch.txt) renders exactly these facts.
        local = dispatch.dispatched_at.astimezone(ZoneInfo("Asia/Jakarta"))
        assert text == "\n".join([
            f"Penugasan baru untuk {agency.name}",
            "",
            f"Kejadian : {incident.reference} - {incident.category.name} (P{incident.priority})",
            f"Lokasi   : {incident.address} (2.64010, 98.14010)",
            f"Uraian   : {incident.description}",
            f"Diteruskan: {local:%d-%m-%Y %H:%M} WIB",
            "",
            "Terima dan perbarui status di konsol OPD: http://dairi.localhost:8000/opd/",
        ])


def test_version_conflict_and_wrong_agency(tenant_a, as_user, make_user):
    op = as_user(tenant_a, "operator1")
    incident_id = post_json(op, "/incidents/", _form(latitude="2.6501", longitude="98.1501")).json()["id"]
    with schema_context(tenant_a.schema_name):
        damkar = Agency.objects.get(code="damkar").pk
    op.post(f"/incidents/{incident_id}/dispatch/", {"agency": damkar})
    with schema_context(tenant_a.schema_name):
        dispatch = Dispatch.objects.get(incident_id=incident_id)
    responder = as_user(tenant_a, "damkar")
    ok = post_json(responder, f"/dispatches/{dispatch.pk}/advance/",
                   {"status": "acknowledged", "version": dispatch.version})
    assert ok.status_code == 200 and ok.json()["version"] == dispatch.version + 1
    stale = post_json(responder, f"/dispatches/{dispatch.pk}/advance/",
                      {"status": "departed", "version": dispatch.version})
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    # PSC 119's responder cannot touch Damkar's dispatch: the same 404 as a missing one.
    psc = as_user(tenant_a, "psc119")
    assert post_json(psc, f"/dispatches/{dispatch.pk}/advance/", {"status": "departed"}).status_code == 404
    assert post_json(psc, "/dispatches/999999/advance/", {"status": "departed"}).status_code == 404
    with schema_context(tenant_a.schema_name):
        dispatch.refresh_from_db()
        assert dispatch.status == "acknowledged"
