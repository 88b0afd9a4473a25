"""NENA EIDO exchange from outside: export of a real incident validated against the
vendored NENA-STA-021 schema (NIEM components resolved), import of the public
sample and of our own export, idempotency, errors naming the JSON path, and who
may (anonymous, responder of another agency, another tenant, the right role)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from incidents.eido.schema import eido_schema_errors
from incidents.models import Agency, Call, Incident, TimelineEntry

from .conftest import post_json

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "nena-eido" / "Sample call transfer EIDO.json"


def _sample() -> dict:
    return json.loads(SAMPLE.read_text())


@pytest.fixture
def fire(tenant_b, as_user):
    """A Sidoarjo fire with an AML-located call, dispatched to Damkar and PSC 119,
    Damkar on its way: a real incident made through the console's endpoints."""
    op = as_user(tenant_b, "operator1")
    with schema_context(tenant_b.schema_name):
        from django.utils import timezone

        call = Call.objects.create(external_id="eido-call-1", caller="+6281234567890",
                                   ringing_at=timezone.now(), state="answered",
                                   answered_at=timezone.now(), aml_lat=-7.45, aml_lng=112.72,
                                   aml_radius_m=12.0, aml_source="gnss",
                                   aml_time=timezone.now())
        damkar, psc = Agency.objects.get(code="damkar"), Agency.objects.get(code="psc119")
    created = post_json(op, "/incidents/", {
        "category": "fire", "latitude": "-7.4478", "longitude": "112.7183",
        "address": "Jl. Pahlawan 42", "kecamatan": "Sidoarjo", "kelurahan": "Sidokare",
        "description": "Kebakaran rumah tinggal <dua lantai>", "caller": "081234567890",
        "call": call.pk, "idempotency_key": "eido-fire-1", "force": "1"})
    assert created.status_code == 201, created.content
    incident_id = created.json()["id"]
    r = op.post(f"/incidents/{incident_id}/dispatch/", {"agency": [damkar.pk, psc.pk]})
    assert r.status_code == 302, r.content
    with schema_context(tenant_b.schema_name):
        dispatch = Incident.objects.get(pk=incident_id).dispatches.get(agency=damkar)
    responder = as_user(tenant_b, "damkar")
    r = responder.post(f"/dispatches/{dispatch.pk}/advance/",
                       {"status": "acknowledged", "version": dispatch.version})
    assert r.status_code == 302, r.content
    return incident_id


def test_public_sample_is_valid_and_a_broken_copy_names_the_path():
    assert eido_schema_errors(_sample()) == []
    broken = _sample()
    broken["callComponent"][0]["direction"] = "sideways"
    del broken["agencyComponent"][0]["agencyType"]
    paths = {e.path for e in eido_schema_errors(broken)}
    assert paths == {"$.callComponent[0].direction", "$.agencyComponent[0]"}


def test_export_of_a_real_incident_validates_and_carries_every_component(
        tenant_b, as_user, fire):
    r = as_user(tenant_b, "supervisor").get(f"/api/eido/incidents/{fire}/")
    assert r.status_code == 200, r.content
    doc = r.json()
    assert eido_schema_errors(doc) == []
    schema = tenant_b.schema_name
    assert doc["$id"] == f"urn:siaga112:{schema}:incident:{fire}"
    for key in ("incidentComponent", "callComponent", "agencyComponent", "agentComponent",
                "dispatchComponent", "emergencyResourceComponent", "locationComponent",
                "notesComponent", "callbackComponent", "personComponent"):
        assert doc[key], key
    # Every component: its own update time and owning agency, ids under the Pemda's URN.
    components = [doc["incidentComponent"]] + [c for k, v in doc.items()
                                               if k.endswith("Component") and isinstance(v, list)
                                               for c in v]
    agencies = {a["$id"] for a in doc["agencyComponent"]}
    for component in components:
        assert component["$id"].startswith(f"urn:siaga112:{schema}:")
        assert component["lastUpdateTimeStamp"]
        assert component["updatedByAgencyReference"]["$ref"] in agencies
    assert {f"urn:siaga112:{schema}:agency:damkar", f"urn:siaga112:{schema}:agency:psc119",
            f"urn:siaga112:{schema}:agency:psap"} == agencies
    assert doc["incidentComponent"]["incidentTypeInternalCode"] == "fire"
    statuses = {u["emergencyResourceName"]: u["primaryUnitStatusRegistryText"]
                for u in doc["emergencyResourceComponent"]}
    assert statuses["Damkar (Pemadam Kebakaran)"] == "Acknowledged"
    aml = [loc for loc in doc["locationComponent"] if loc["$id"].endswith(":location:aml:"
                                                                          + doc["callComponent"][0]["$id"].rsplit(":", 1)[1])]
    assert aml and "-7.450000 112.720000" in aml[0]["locationByValue"]
    assert "gs:radius" in aml[0]["locationByValue"]
    incident_loc = doc["locationComponent"][0]["locationByValue"]
    assert "-7.447800 112.718300" in incident_loc and "<A2>Kabupaten Sidoarjo</A2>" in incident_loc
    # The description is escaped (notes are HTML5), the caller number is there for staff.
    assert "&lt;dua lantai&gt;" in doc["notesComponent"][0]["notesActionComments"]
    assert doc["callbackComponent"][0]["callBackInformationUri"] == ["tel:+6281234567890"]
    # Our own document coming back (a round trip) updates the same incident and adds
    # none of our own notes again.
    back = as_user(tenant_b, "supervisor").post("/api/eido/incidents/", json.dumps(doc),
                                                content_type="application/json")
    assert back.status_code == 200, back.content
    assert (back.json()["incident"], back.json()["created"], back.json()["notes_added"]) == (
        fire, False, 0)


def test_export_access_from_outside(tenant_a, tenant_b, as_user, client_for, fire):
    path = f"/api/eido/incidents/{fire}/"
    assert client_for(tenant_b).get(path).status_code == 401
    # Another tenant's operator: no such incident there (its own schema, its own ids).
    other = as_user(tenant_a, "operator1").get(path)
    assert other.status_code == 404 or other.json()["$id"].startswith(
        f"urn:siaga112:{tenant_a.schema_name}:")
    # The Pemda admin is no incident role.
    assert as_user(tenant_b, "admin").get(path).status_code == 403
    # A responder sees its own agency only, and never the caller's number.
    damkar = as_user(tenant_b, "damkar").get(path)
    assert damkar.status_code == 200
    doc = damkar.json()
    assert eido_schema_errors(doc) == []
    assert {a["$id"].rsplit(":", 1)[1] for a in doc["agencyComponent"]} == {"psap", "damkar"}
    assert "callbackComponent" not in doc and "personComponent" not in doc
    assert "6281234567890" not in json.dumps(doc)
    viewer = as_user(tenant_b, "bupati").get(path).json()
    assert "6281234567890" not in json.dumps(viewer)
    # A responder of an agency that was not sent: 404, same as missing.
    with schema_context(tenant_b.schema_name):
        from accounts.models import User
        from incidents.models import AgencyMember

        psc_user = User.objects.get(username="psc119")
        AgencyMember.objects.filter(user=psc_user).update(agency=Agency.objects.get(code="bpbd"))
    assert as_user(tenant_b, "psc119").get(path).status_code == 404
    assert as_user(tenant_b, "supervisor").get("/api/eido/incidents/999999/").status_code == 404


def test_import_public_sample_is_idempotent(tenant_b, as_user):
    op = as_user(tenant_b, "operator1")
    body = json.dumps(_sample())
    first = op.post("/api/eido/incidents/", body, content_type="application/json")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["created"] is True
    again = op.post("/api/eido/incidents/", body, content_type="application/json")
    assert again.status_code == 200 and again.json()["incident"] == data["incident"]
    assert again.json()["notes_added"] == 0
    with schema_context(tenant_b.schema_name):
        incident = Incident.objects.get(pk=data["incident"])
        assert "Wilmington" in incident.address
        assert incident.category.code == "other"
        # The US call-back number is no Indonesian number: left out, not refused.
        assert incident.caller == ""
        entry = TimelineEntry.objects.get(incident=incident, kind="eido_imported")
        assert entry.data["eido_id"] == _sample()["$id"]


def test_export_then_import_into_a_neighbour_and_update_with_new_notes(
        tenant_a, tenant_b, as_user, fire):
    tenant_c = tenant_a  # the receiving Pemda (Dairi has demo staff)
    doc = as_user(tenant_b, "supervisor").get(f"/api/eido/incidents/{fire}/").json()
    malang = as_user(tenant_c, "operator1")
    r = malang.post("/api/eido/incidents/", json.dumps(doc), content_type="application/json")
    assert r.status_code == 201, r.content
    with schema_context(tenant_c.schema_name):
        incident = Incident.objects.get(pk=r.json()["incident"])
        assert incident.category.code == "fire"
        assert (round(incident.latitude, 4), round(incident.longitude, 4)) == (-7.4478, 112.7183)
        assert incident.kecamatan == "Sidoarjo" and incident.kelurahan == "Sidokare"
        assert incident.description == "Kebakaran rumah tinggal <dua lantai>"
        notes_before = TimelineEntry.objects.filter(incident=incident, kind="eido_note").count()
    updated = copy.deepcopy(doc)
    updated["notesComponent"].append({
        "$id": f"urn:siaga112:{tenant_b.schema_name}:note:extra-1",
        "lastUpdateTimeStamp": "2026-11-29T12:00:00+07:00",
        "updatedByAgencyReference": {"$ref": doc["agencyComponent"][0]["$id"]},
        "notesActionComments": "<p>Api sudah padam</p>"})
    r2 = malang.post("/api/eido/incidents/", json.dumps(updated), content_type="application/json")
    assert r2.status_code == 200 and r2.json() == {**r2.json(), "created": False, "notes_added": 1}
    with schema_context(tenant_c.schema_name):
        assert Incident.objects.filter(pk=incident.pk).count() == 1
        notes = TimelineEntry.objects.filter(incident=incident, kind="eido_note")
        assert notes.count() == notes_before + 1
        assert notes.order_by("-id").first().data["note"] == "Api sudah padam"


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda d: d.pop("agencyComponent"), "$"),
    (lambda d: d["callComponent"][0].update(direction="sideways"), "$.callComponent[0].direction"),
    (lambda d: d.update(eidoVersion="9"), "$.eidoVersion"),
    (lambda d: d["locationComponent"][0].update(
        locationByValue="<gml:pos>48.85 2.35</gml:pos>"), "$.locationComponent[0].locationByValue"),
])
def test_bad_documents_name_the_path_and_save_nothing(tenant_b, as_user, mutate, path):
    doc = _sample()
    doc["$id"] = "urn:test:bad:" + path
    mutate(doc)
    with schema_context(tenant_b.schema_name):
        before = Incident.objects.count()
    r = as_user(tenant_b, "operator1").post("/api/eido/incidents/", json.dumps(doc),
                                            content_type="application/json")
    assert r.status_code == 400, r.content
    assert r.json()["field"] == path
    with schema_context(tenant_b.schema_name):
        assert Incident.objects.count() == before


def test_import_refusals_from_outside(tenant_b, as_user, client_for):
    body = json.dumps(_sample())
    with schema_context(tenant_b.schema_name):
        before = Incident.objects.count()
    assert client_for(tenant_b).post("/api/eido/incidents/", body,
                                     content_type="application/json").status_code == 401
    for username in ("damkar", "bupati", "admin"):
        r = as_user(tenant_b, username).post("/api/eido/incidents/", body,
                                             content_type="application/json")
        assert r.status_code == 403, username
    op = as_user(tenant_b, "operator1")
    for raw in ("not json", "[]", "null"):
        r = op.post("/api/eido/incidents/", raw, content_type="application/json")
        assert r.status_code == 400 and r.json()["field"] == "$"
    huge = op.post("/api/eido/incidents/", "x" * 1_000_001, content_type="application/json")
    assert huge.status_code == 413
    assert op.get("/api/eido/incidents/").status_code == 405
    with schema_context(tenant_b.schema_name):
        assert Incident.objects.count() == before


def _gql(client, query, variables):
    r = client.post("/graphql/", data=json.dumps({"query": query, "variables": variables}),
                    content_type="application/json")
    assert r.status_code == 200, r.content
    return r.json()


EIDO_QUERY = "query($id: ID!) { incidentEido(id: $id) }"
IMPORT = """mutation($doc: JSONString!) { importEido(document: $doc) {
  incidentId reference created notesAdded errors { path message code } } }"""


def test_graphql_export_and_import(tenant_a, tenant_b, as_user, client_for, fire):
    tenant_c = tenant_a  # another Pemda with demo staff
    doc = _gql(as_user(tenant_b, "supervisor"), EIDO_QUERY, {"id": fire})["data"]["incidentEido"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    assert eido_schema_errors(doc) == []
    # Another tenant, the admin role, anonymous: no document.
    for client in (as_user(tenant_c, "operator1"), as_user(tenant_b, "admin"),
                   client_for(tenant_b)):
        answer = _gql(client, EIDO_QUERY, {"id": fire})
        assert answer["data"]["incidentEido"] is None and answer["errors"]
    # Import into Kota Malang; again: the same incident; a broken copy: typed errors.
    op = as_user(tenant_c, "operator1")
    first = _gql(op, IMPORT, {"doc": json.dumps(doc)})["data"]["importEido"]
    assert first["created"] is True and first["errors"] == []
    again = _gql(op, IMPORT, {"doc": json.dumps(doc)})["data"]["importEido"]
    assert again["incidentId"] == first["incidentId"] and again["created"] is False
    broken = copy.deepcopy(doc)
    broken["$id"] = "urn:test:broken"
    broken["emergencyResourceComponent"][0]["primaryUnitStatusRegistryText"] = 7
    bad = _gql(op, IMPORT, {"doc": json.dumps(broken)})["data"]["importEido"]
    assert bad["incidentId"] is None
    assert bad["errors"][0]["path"] == "$.emergencyResourceComponent[0].primaryUnitStatusRegistryText"
    assert bad["errors"][0]["code"] == "invalid_eido"
    from incidents.services.eido_exchange import eido_idempotency_key

    with schema_context(tenant_c.schema_name):
        assert not Incident.objects.filter(
            idempotency_key=eido_idempotency_key("urn:test:broken")).exists()
    refused = _gql(as_user(tenant_c, "bupati"), IMPORT, {"doc": json.dumps(broken)})
    assert refused["data"]["importEido"] is None
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"


def test_referral_carries_an_eido_document_without_caller_data(tenant_a, tenant_b, as_user):
    from referrals.models import Referral

    dairi_op, sda_op = as_user(tenant_a, "operator1"), as_user(tenant_b, "operator1")
    created = post_json(dairi_op, "/incidents/", {
        "category": "natural_disaster", "latitude": "2.9501", "longitude": "98.6001",
        "address": "Perbatasan", "description": "Longsor di perbatasan",
        "caller": "081260013013", "idempotency_key": "eido-ref-1", "force": "1"})
    incident_id = created.json()["id"]
    r = dairi_op.post(f"/incidents/{incident_id}/refer/", {"to_schema": tenant_b.schema_name})
    assert r.status_code == 302, r.content.decode()[-800:]
    referral = Referral.objects.get(from_schema=tenant_a.schema_name,
                                    source_incident_id=incident_id)
    eido = referral.payload["eido"]
    assert eido_schema_errors(eido) == []
    assert eido["$id"] == f"urn:siaga112:{tenant_a.schema_name}:incident:{incident_id}"
    assert "callbackComponent" not in eido and "personComponent" not in eido
    assert "081260013013" not in json.dumps(eido) and "6281260013013" not in json.dumps(eido)
    assert sda_op.post(f"/referrals/{referral.pk}/accept/").status_code == 302
    referral.refresh_from_db()
    with schema_context(tenant_b.schema_name):
        local = Incident.objects.get(pk=referral.target_incident_id)
        received = TimelineEntry.objects.get(incident=local, kind="referral_received")
        assert received.data["eido_id"] == eido["$id"]
        notes = list(TimelineEntry.objects.filter(incident=local, kind="eido_note"))
        assert notes and any("Longsor" in n.data["note"] for n in notes)
