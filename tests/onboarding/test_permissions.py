"""Who may do what, from outside, on Kota Kotamobagu (Sulawesi Utara, at
FGD/Bimtek): every role, own and other province, own and other Pemda. A
refused request also leaves everything as it was."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import Role
from onboarding.models import PemdaOnboarding, TimelineEntry, TrialCall, VerificationVisit
from tenants.models import Region

CODE = "71.74"
ACTORS = ["anonymous", "national", "prov_own", "prov_other", "coord_own", "coord_other", "auditor"]
TODAY = dt.date.today().isoformat()

ACTIONS = {
    "comment": {"note": "Mohon jadwal Bimtek kedua"},
    "advance": None,  # filled with the current version
    "send_back": None,
    "trial_call": {"called_on": TODAY, "operator": "telkomsel", "scenario": "Uji", "result": "success"},
    "verification": {"visited_on": TODAY, "verifier": "X", "supervisors": 1, "agents": 1,
                     "opd_teams": 1, "result": "passed"},
    "application": {"letter_number": "1", "letter_date": TODAY, "contact_name": "A",
                    "contact_phone": "1", "contact_email": "a@b.id", "network_scheme": "ip_pbx",
                    "address": "x", "latitude": "0.7", "longitude": "124.3"},
}
OK = "ok"
# Expected outcome per action and actor: "ok" (done, redirect back to the page),
# "login" (sent to log in), or the refusal status code.
MATRIX = {
    "view":         {"anonymous": "login", "national": 200, "prov_own": 200, "prov_other": 404,
                     "coord_own": 200, "coord_other": 404, "auditor": 200},
    "comment":      {"anonymous": "login", "national": OK, "prov_own": OK, "prov_other": 404,
                     "coord_own": OK, "coord_other": 404, "auditor": 403},
    "advance":      {"anonymous": "login", "national": OK, "prov_own": 403, "prov_other": 404,
                     "coord_own": 403, "coord_other": 404, "auditor": 403},
    "send_back":    {"anonymous": "login", "national": OK, "prov_own": 403, "prov_other": 404,
                     "coord_own": 403, "coord_other": 404, "auditor": 403},
    "trial_call":   {"anonymous": "login", "national": OK, "prov_own": 403, "prov_other": 404,
                     "coord_own": OK, "coord_other": 404, "auditor": 403},
    "verification": {"anonymous": "login", "national": OK, "prov_own": 403, "prov_other": 404,
                     "coord_own": 403, "coord_other": 404, "auditor": 403},
    "application":  {"anonymous": "login", "national": OK, "prov_own": 403, "prov_other": 404,
                     "coord_own": OK, "coord_other": 404, "auditor": 403},
}


@pytest.fixture
def client_as(client_for, make_user, demo_user):
    made = {}

    def make(actor: str) -> Client:
        if actor == "anonymous":
            return client_for(None)
        if actor == "prov_own":
            if "prov_own" not in made:
                made["prov_own"] = make_user(None, Role.PROVINCIAL_OFFICER, username="prov.sulut",
                                             region=Region.objects.get(pk="71"))
            return client_for(None, made["prov_own"])
        username = {"national": "nasional", "prov_other": "prov.jatim",
                    "coord_own": "koordinator.kotamobagu", "coord_other": "koordinator.dairi",
                    "auditor": "auditor"}[actor]
        return client_for(None, demo_user(username))

    return make


def _snapshot() -> tuple:
    ob = PemdaOnboarding.objects.get(pk=CODE)
    return (ob.stage, ob.version, TimelineEntry.objects.filter(onboarding_id=CODE).count(),
            TrialCall.objects.filter(onboarding_id=CODE).count(),
            VerificationVisit.objects.filter(onboarding_id=CODE).count(),
            ob.application.letter_number if hasattr(ob, "application") else None)


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("actor", ACTORS)
def test_permission_matrix(client_as, actor, action):
    client = client_as(actor)
    expected = MATRIX[action][actor]
    before = _snapshot()
    if action == "view":
        response = client.get(f"/pemda/{CODE}/")
    else:
        data = ACTIONS[action]
        version = PemdaOnboarding.objects.get(pk=CODE).version
        if action == "advance":
            data = {"expected_version": version}
        elif action == "send_back":
            data = {"expected_version": version, "reason": "Perlu perbaikan"}
        response = client.post(f"/pemda/{CODE}/{action}/", data)
    after = _snapshot()
    if expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif expected == OK:
        import re
        assert response.status_code == 302, re.findall(r"alert-danger.*?</div>|invalid-feedback.*?</div>", response.content.decode(), re.S)
        assert response["Location"] == f"/pemda/{CODE}/"
        assert after != before
    else:
        assert response.status_code == expected
    if expected != OK and action != "view":
        assert after == before, "a refused request changed something"


@pytest.mark.django_db
@pytest.mark.parametrize("actor,expected", [
    ("anonymous", "login"), ("national", 200), ("auditor", 200), ("prov_own", 200),
    ("prov_other", 200), ("coord_own", 403), ("coord_other", 403),
])
def test_list_and_export_scope(client_as, actor, expected):
    response = client_as(actor).get("/pemda/?format=csv")
    if expected == "login":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    assert response.status_code == expected
    if expected != 200:
        return
    lines = response.content.decode().strip().splitlines()[1:]
    provinces = {line.split(",")[0].split(".")[0] for line in lines}
    if actor in ("national", "auditor"):
        assert len(lines) == 514
    elif actor == "prov_own":
        assert provinces == {"71"} and len(lines) == Region.objects.filter(parent_id="71").count()
    else:
        assert provinces == {"35"} and len(lines) == Region.objects.filter(parent_id="35").count()


@pytest.mark.django_db
def test_console_landing_by_role(client_as):
    anonymous = client_as("anonymous").get("/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert client_as("national").get("/").status_code == 200
    assert client_as("auditor").get("/").status_code == 200
    assert client_as("coord_own").get("/")["Location"] == f"/pemda/{CODE}/"
    assert client_as("prov_own").get("/")["Location"] == "/provinsi/71/"
    assert client_as("prov_own").get("/provinsi/71/").status_code == 200
    assert client_as("prov_own").get("/provinsi/35/").status_code == 404
    assert client_as("coord_own").get("/provinsi/71/").status_code == 404


@pytest.mark.django_db
def test_letter_download_is_access_checked(client_as):
    assert client_as("coord_own").get(f"/pemda/{CODE}/surat.pdf").status_code == 200
    assert client_as("coord_other").get(f"/pemda/{CODE}/surat.pdf").status_code == 404
    assert client_as("prov_other").get(f"/pemda/{CODE}/surat.pdf").status_code == 404
    body = b"".join(client_as("national").get(f"/pemda/{CODE}/surat.pdf").streaming_content)
    assert body.startswith(b"%PDF-")


@pytest.mark.django_db
def test_coordinator_submits_own_application_only(client_for, make_user, pdf_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    region = Region.objects.get(name="Kabupaten Lumajang")
    other = Region.objects.get(name="Kabupaten Jember")
    user = make_user(None, Role.PEMDA_COORDINATOR, username="koord.lmj", region=region)
    client = client_for(None, user)
    data = dict(ACTIONS["application"], latitude="-8.13", longitude="113.22",
                letter=SimpleUploadedFile("s.pdf", pdf_bytes))
    assert client.post(f"/pemda/{region.code}/application/", data).status_code == 302
    version = PemdaOnboarding.objects.get(pk=region.code).version
    assert client.post(f"/pemda/{region.code}/advance/", {"expected_version": version}).status_code == 302
    assert PemdaOnboarding.objects.get(pk=region.code).stage == "application"
    stage = PemdaOnboarding.objects.get(pk=other.code).stage
    data["letter"] = SimpleUploadedFile("s.pdf", pdf_bytes)
    assert client.post(f"/pemda/{other.code}/application/", data).status_code == 404
    assert client.post(f"/pemda/{other.code}/advance/", {"expected_version": 0}).status_code == 404
    assert PemdaOnboarding.objects.get(pk=other.code).stage == stage
    assert not hasattr(PemdaOnboarding.objects.get(pk=other.code), "application")
