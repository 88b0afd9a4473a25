"""An OPD responder sees its own agency's dispatches (and the incidents they belong
to) only, on every surface: console partial, list (HTML and JSON), incident page,
live partial and JSON, map, GraphQL. Operators, supervisors and viewers see all.

Three incidents in Dairi: one sent to damkar and psc119 (both acknowledged), one
sent to psc119 only, one not sent to anyone yet."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from accounts.models import User
from incidents.models import Agency, Incident
from incidents.services import dispatching
from incidents.services import incidents as incident_services

PSC_NAME = "Dinas Kesehatan / PSC 119"
DAMKAR_NAME = "Damkar (Pemadam Kebakaran)"


@dataclass
class Picture:
    shared: Incident  # damkar + psc119
    psc: Incident  # psc119 only
    unassigned: Incident  # nobody yet

    def refs(self) -> dict[str, str]:
        return {"shared": self.shared.reference, "psc": self.psc.reference,
                "unassigned": self.unassigned.reference}


def _incident(op: User, category: str, agencies: list[str]) -> Incident:
    inc = incident_services.incident_create(
        data=incident_services.IncidentInput(
            category=category, description="scope", latitude=2.70, longitude=98.30,
            address="Jl. Scope", idempotency_key=f"scope-{uuid.uuid4().hex[:20]}"),
        actor=op, is_test=True, force=True).incident
    if agencies:
        dispatches = dispatching.dispatch_create(
            incident_id=inc.pk, actor=op,
            agency_ids=[Agency.objects.get(code=code).pk for code in agencies])
        for d in dispatches:
            responder = User.objects.get(username=d.agency.code)
            dispatching.dispatch_advance(dispatch_id=d.pk, to_status="acknowledged",
                                         actor=responder, expected_version=d.version)
    return Incident.objects.get(pk=inc.pk)


@pytest.fixture
def picture(tenant_a) -> Picture:
    with schema_context(tenant_a.schema_name):
        op = User.objects.get(username="operator1")
        return Picture(
            shared=_incident(op, "fire", ["damkar", "psc119"]),
            psc=_incident(op, "medical", ["psc119"]),
            unassigned=_incident(op, "fire", []),
        )


SEES = {
    # who: which of the three incidents they see
    "damkar": {"shared"},
    "psc119": {"shared", "psc"},
    "operator1": {"shared", "psc", "unassigned"},
    "supervisor": {"shared", "psc", "unassigned"},
}


def _seen(text: str, picture: Picture) -> set[str]:
    return {name for name, ref in picture.refs().items() if ref in text}


@pytest.mark.parametrize("username", list(SEES))
def test_open_incidents_partial(picture, tenant_a, as_user, username):
    html = as_user(tenant_a, username).get("/console/incidents/").content.decode()
    assert _seen(html, picture) == SEES[username]
    # Badges name the agency as people say it; the code stays in a data attribute.
    if username == "damkar":
        assert 'data-agency="psc119"' not in html and 'data-agency="damkar"' in html
        assert "Damkar:" in html and "PSC 119:" not in html
    if username in ("operator1", "supervisor"):
        assert 'data-agency="psc119"' in html and 'data-agency="damkar"' in html
        assert "Damkar:" in html and "PSC 119:" in html
    assert "psc119:" not in html and "damkar:" not in html


@pytest.mark.parametrize("username", list(SEES))
def test_incident_list_html_and_json(picture, tenant_a, as_user, username):
    client = as_user(tenant_a, username)
    html = client.get("/incidents/?status=open").content.decode()
    assert _seen(html, picture) == SEES[username]
    listed = client.get("/incidents/?status=open", HTTP_ACCEPT="application/json").json()
    assert _seen(json.dumps(listed), picture) == SEES[username]


@pytest.mark.parametrize("username", list(SEES))
def test_map_points(picture, tenant_a, as_user, username):
    points = as_user(tenant_a, username).get("/console/map.json").json()["incidents"]
    assert _seen(json.dumps(points), picture) == SEES[username]


@pytest.mark.parametrize("username", list(SEES))
def test_incident_pages_and_json(picture, tenant_a, as_user, username):
    client = as_user(tenant_a, username)
    for name, incident in (("shared", picture.shared), ("psc", picture.psc),
                           ("unassigned", picture.unassigned)):
        for path in (f"/incidents/{incident.pk}/", f"/incidents/{incident.pk}/live/"):
            status = client.get(path).status_code
            assert status == (200 if name in SEES[username] else 404), (path, status)
    body = client.get(f"/incidents/{picture.shared.pk}/", HTTP_ACCEPT="application/json").json()
    agencies = {d["agency"] for d in body["dispatches"]}
    timeline_agencies = {e["data"].get("agency") for e in body["timeline"]} - {None}
    live = client.get(f"/incidents/{picture.shared.pk}/live/").content.decode()
    if username == "damkar":
        assert agencies == timeline_agencies == {"damkar"}
        assert PSC_NAME not in live and DAMKAR_NAME in live
        # The incident's own history (created, status) is still there.
        assert {"created", "status"} <= {e["kind"] for e in body["timeline"]}
    elif username == "psc119":
        assert agencies == timeline_agencies == {"psc119"}
        assert DAMKAR_NAME not in live and PSC_NAME in live
    else:
        assert agencies == timeline_agencies == {"damkar", "psc119"}
        assert DAMKAR_NAME in live and PSC_NAME in live


GRAPHQL = """query($id: ID!) {
  incident(id: $id) { reference dispatches { agencyCode } timeline { kind data } }
  incidents(status: "open") { reference }
  openDispatches { incidentReference agencyCode } }"""


@pytest.mark.parametrize("username", list(SEES))
def test_graphql(picture, tenant_a, as_user, username):
    client = as_user(tenant_a, username)

    def ask(incident: Incident) -> dict:
        r = client.post("/graphql/", content_type="application/json",
                        data=json.dumps({"query": GRAPHQL, "variables": {"id": incident.pk}}))
        assert r.status_code == 200 and "errors" not in r.json(), r.content
        return r.json()["data"]

    data = ask(picture.shared)
    assert _seen(json.dumps(data["incidents"]), picture) == SEES[username]
    assert _seen(json.dumps(data["openDispatches"]), picture) == SEES[username] - {"unassigned"}
    shared = data["incident"]
    agencies = {d["agencyCode"] for d in shared["dispatches"]}
    timeline_agencies = {json.loads(e["data"]).get("agency") for e in shared["timeline"]} - {None}
    expected = {"damkar": {"damkar"}, "psc119": {"psc119"}}.get(username, {"damkar", "psc119"})
    assert agencies == timeline_agencies == expected
    mine = set(picture.refs().values())
    assert {d["agencyCode"] for d in data["openDispatches"]
            if d["incidentReference"] in mine} == expected
    for name, incident in (("psc", picture.psc), ("unassigned", picture.unassigned)):
        assert (ask(incident)["incident"] is not None) == (name in SEES[username])
