"""One Pemda walked from 'not started' to launched over HTTP, by the people who
do each step, ending with its tenant live and its first admin invited."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from accounts.models import AdminInvitation, Role, User
from onboarding.models import (
    Operator,
    PemdaOnboarding,
    Stage,
    TimelineEntry,
    TimelineKind,
)
from tenants.models import Region, Tenant


@pytest.fixture
def eager_celery():
    """Run enqueued tasks in-process (inside the test's transaction), so the
    provisioning the real task does is rolled back with the test."""
    from siaga112.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _post(client: Client, code: str, action: str, data: dict, expect: int = 302):
    response = client.post(f"/pemda/{code}/{action}/", data)
    if response.status_code != expect:
        open("/tmp/walk_fail.html", "w").write(action + "\n" + response.content.decode())
    assert response.status_code == expect, re.findall(
        r"alert-danger.*?</div>|invalid-feedback.*?</div>", response.content.decode(), re.S)
    return response


def _version(code: str) -> int:
    return PemdaOnboarding.objects.get(pk=code).version


@pytest.mark.django_db
def test_walk_from_application_to_launch(
    client_for, make_user, demo_user, eager_celery, django_capture_on_commit_callbacks, pdf_bytes
):
    region = Region.objects.get(name="Kabupaten Lumajang")
    code = region.code
    ob = PemdaOnboarding.objects.get(pk=code)
    assert ob.stage == Stage.NOT_STARTED
    assert not Tenant.objects.filter(region=region).exists()
    coordinator = make_user(None, Role.PEMDA_COORDINATOR, username="koord.lumajang", region=region)
    coord = client_for(None, coordinator)
    national = client_for(None, demo_user("nasional"))
    # Lumajang's own date (WIB): from 17:00 UTC it is already tomorrow there.
    today = timezone.localdate(timezone=ZoneInfo("Asia/Jakarta"))

    # 1. The coordinator fills in and submits the application.
    _post(coord, code, "application", {
        "letter": SimpleUploadedFile("surat.pdf", pdf_bytes, content_type="application/pdf"),
        "letter_number": "045/112/2025", "letter_date": (today - dt.timedelta(days=3)).isoformat(),
        "contact_name": "Kabid TIK", "contact_phone": "+62 811 111 112",
        "contact_email": "tik@lumajang.go.id", "network_scheme": "sip_trunk",
        "address": "Jl. Alun-alun Utara, Lumajang", "latitude": "-8.13390", "longitude": "113.22250",
    })
    _post(coord, code, "advance", {"expected_version": _version(code), "note": "Mohon diproses"})
    assert PemdaOnboarding.objects.get(pk=code).stage == Stage.APPLICATION
    # The coordinator may not accept their own application.
    _post(coord, code, "advance", {"expected_version": _version(code)}, expect=403)

    # 2. The ministry accepts it; verification needs a passed visit and the five letters.
    _post(national, code, "advance", {"expected_version": _version(code)})
    response = _post(national, code, "advance", {"expected_version": _version(code)}, expect=400)
    assert "verification visit" in response.content.decode() or "kunjungan verifikasi" in response.content.decode()
    _post(national, code, "verification", {
        "visited_on": today.isoformat(), "verifier": "Tim Aptika", "room_ready": "on",
        "hardware_ready": "on", "network_ready": "on", "backup_power_ready": "on",
        "supervisors": 2, "agents": 8, "opd_teams": 9, "system_ready": "on",
        "draft_regulation": "on", "sop_ready": "on", "result": "passed",
    })
    for op in Operator:
        _post(national, code, "routing", {"operator": op.value, "letter_date": today.isoformat()})

    # 3. Entering installation provisions the tenant and invites the first admin.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _post(national, code, "advance", {"expected_version": _version(code)})
    tenant = Tenant.objects.get(region=region)
    assert schema_exists(tenant.schema_name)
    assert tenant.status == Tenant.Status.INSTALLED
    domain = tenant.domains.get(is_primary=True).domain
    assert domain == "lumajang.localhost"
    assert Client(HTTP_HOST=domain).get("/healthz/").status_code == 200
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["tik@lumajang.go.id"]
    link = re.search(r"http://lumajang\.localhost:8000/accounts/invite/([\w-]+)/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    token = link.group(1)
    invitation = AdminInvitation.objects.get(region=region)
    assert token not in invitation.token_hash  # only the hash is stored
    tenant_client = Client(HTTP_HOST=domain)
    accepted = tenant_client.post(f"/accounts/invite/{token}/", {
        "username": "admin.lumajang", "password1": "Sirene-pagi-4471", "password2": "Sirene-pagi-4471"})
    assert accepted.status_code == 302
    with schema_context(tenant.schema_name):
        admin = User.objects.get(username="admin.lumajang")
        assert admin.role == Role.PEMDA_ADMIN and admin.check_password("Sirene-pagi-4471")
    with schema_context("public"):
        assert not User.objects.filter(username="admin.lumajang").exists()  # not in public
    # Single use.
    assert tenant_client.get(f"/accounts/invite/{token}/").status_code == 404

    _post(national, code, "installation", {"installed_on": today.isoformat()})
    _post(national, code, "advance", {"expected_version": _version(code)})
    assert Tenant.objects.get(region=region).status == Tenant.Status.TRAINING

    # 4. FGD/Bimtek (the coordinator records it).
    _post(coord, code, "training", {
        "held_on": today.isoformat(), "place": "Aula Diskominfo", "facilitator": "Aptika",
        "participating_opd": "Dinkes\nDamkar\nBPBD", "operators_trained": 12})
    _post(national, code, "advance", {"expected_version": _version(code)})
    assert Tenant.objects.get(region=region).status == Tenant.Status.TRIAL
    assert Tenant.objects.get(region=region).in_trial

    # 5. Trial: test calls, routing opened, regulation, launch details.
    _post(coord, code, "trial_call", {"called_on": today.isoformat(), "operator": "telkomsel",
                                      "scenario": "Kebakaran", "result": "success"})
    for op in Operator:
        _post(national, code, "routing", {"operator": op.value, "letter_date": today.isoformat(),
                                          "routing_opened_on": today.isoformat()})
    _post(coord, code, "regulation", {"kind": "perbup", "number": "12 Tahun 2025",
                                      "enacted_on": today.isoformat()})
    _post(national, code, "launch", {"launched_on": today.isoformat(), "launched_by": "Bupati Lumajang"})
    launched_before = PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED).count()
    _post(national, code, "advance", {"expected_version": _version(code), "note": "Peresmian"})

    # 6. Launched: tenant live, ordinal computed, national count moved.
    ob = PemdaOnboarding.objects.get(pk=code)
    assert ob.stage == Stage.LAUNCHED and ob.launched_on == today
    tenant = Tenant.objects.get(region=region)
    assert tenant.status == Tenant.Status.LIVE and not tenant.in_trial
    assert Client(HTTP_HOST=domain).get("/healthz/").status_code == 200
    assert PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED).count() == launched_before + 1
    page = national.get(f"/pemda/{code}/").content.decode()
    assert f"no. {launched_before + 1}" in page or f"ke-{launched_before + 1}" in page
    transitions = list(TimelineEntry.objects.filter(onboarding_id=code, kind=TimelineKind.ADVANCE)
                       .values_list("from_stage", "to_stage"))
    assert transitions == [
        ("not_started", "application"), ("application", "verification"),
        ("verification", "installation"), ("installation", "training"),
        ("training", "trial"), ("trial", "launched"),
    ]
    assert TimelineEntry.objects.filter(onboarding_id=code, kind=TimelineKind.EVIDENCE).count() >= 14
    assert ob.version == 6


@pytest.mark.django_db
def test_send_back_needs_a_reason_and_is_recorded(as_user):
    national = as_user("nasional")
    code = "71.74"  # Kotamobagu, at training
    version = _version(code)
    response = national.post(f"/pemda/{code}/send_back/", {"expected_version": version, "reason": "  "})
    assert response.status_code == 400
    assert PemdaOnboarding.objects.get(pk=code).stage == Stage.TRAINING
    assert _version(code) == version
    national.post(f"/pemda/{code}/send_back/", {"expected_version": version,
                                                "reason": "Instalasi UPS belum selesai"})
    ob = PemdaOnboarding.objects.get(pk=code)
    assert ob.stage == Stage.INSTALLATION and ob.version == version + 1
    entry = TimelineEntry.objects.filter(onboarding_id=code).latest("at", "id")
    assert (entry.kind, entry.from_stage, entry.to_stage, entry.note) == (
        "send_back", "training", "installation", "Instalasi UPS belum selesai")
    assert entry.actor.username == "nasional"
    assert Tenant.objects.get(region_id=code).status == Tenant.Status.INSTALLED


@pytest.mark.django_db
def test_no_skipping_and_missing_evidence_is_named(as_user):
    """Dairi (trial) cannot launch: the page and the refusal say exactly what is missing."""
    national = as_user("nasional")
    version = _version("12.11")
    response = national.post("/pemda/12.11/advance/", {"expected_version": version})
    assert response.status_code == 400
    body = response.content.decode()
    for missing in ("Smartfren", "Telkom", "Perbup/Perwali"):
        assert missing in body
    assert PemdaOnboarding.objects.get(pk="12.11").stage == Stage.TRIAL
    assert _version("12.11") == version
