"""The national writes reachable today leave their audit row, with who, what
and before/after; a refused or conflicting request leaves none."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import schema_context

from accounts.invitations import invitation_create
from accounts.models import Role, User
from audit.models import AuditEntry
from onboarding.models import PemdaOnboarding
from tenants.models import Region, Tenant

KOTAMOBAGU = "71.74"  # at FGD/Bimtek with its evidence complete; has a tenant
PASSWORD = "Sirene-pagi-4471"


def _new(since: int, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since, **filters).order_by("id"))


def _last_id() -> int:
    last = AuditEntry.objects.order_by("-id").first()
    return last.pk if last else 0


@pytest.mark.django_db
def test_advance_records_the_stage_and_the_tenant_status(as_user_public, make_user):
    mark = _last_id()
    version = PemdaOnboarding.objects.get(pk=KOTAMOBAGU).version
    officer = as_user_public("nasional")
    assert officer.post(f"/pemda/{KOTAMOBAGU}/advance/",
                        {"expected_version": version}).status_code == 302
    stage, status = _new(mark, action="onboarding.stage_advanced"), _new(
        mark, action="tenant.status_changed")
    assert len(stage) == 1 and len(status) == 1
    assert (stage[0].before, stage[0].after) == ({"stage": "training"}, {"stage": "trial"})
    assert (stage[0].actor_username, stage[0].actor_role) == ("nasional", "national_officer")
    assert stage[0].target_label == "Kota Kotamobagu" and stage[0].ip == "127.0.0.1"
    tenant = Tenant.objects.get(region_id=KOTAMOBAGU)
    assert (status[0].target_id, status[0].before, status[0].after) == (
        str(tenant.pk), {"status": "training"}, {"status": "trial"})
    # The same version again is a conflict: nothing moves, nothing is recorded.
    mark = _last_id()
    assert officer.post(f"/pemda/{KOTAMOBAGU}/advance/",
                        {"expected_version": version}).status_code == 409
    # A provincial officer may not advance: refused, nothing recorded.
    prov = make_user(None, Role.PROVINCIAL_OFFICER, region=Region.objects.get(pk="71"))
    client = Client(HTTP_HOST="localhost")
    client.force_login(prov, backend="django.contrib.auth.backends.ModelBackend")
    version = PemdaOnboarding.objects.get(pk=KOTAMOBAGU).version
    assert client.post(f"/pemda/{KOTAMOBAGU}/advance/",
                       {"expected_version": version}).status_code == 403
    assert _new(mark) == []


@pytest.mark.django_db
def test_send_back_records_the_reason(demo_user):
    from onboarding.services import onboarding_send_back

    mark = _last_id()
    version = PemdaOnboarding.objects.get(pk=KOTAMOBAGU).version
    onboarding_send_back(region_code=KOTAMOBAGU, actor=demo_user("nasional"),
                         expected_version=version, reason="Bimtek ulang")
    (entry,) = _new(mark, action="onboarding.sent_back")
    assert entry.before == {"stage": "training"}
    assert entry.after == {"stage": "installation", "note": "Bimtek ulang"}
    (status,) = _new(mark, action="tenant.status_changed")
    assert status.after == {"status": "installed"}


@pytest.mark.django_db
def test_evidence_edits_record_only_the_changed_fields(client_for, make_user, pdf_bytes):
    region = Region.objects.get(name="Kabupaten Lumajang")
    user = make_user(None, Role.PEMDA_COORDINATOR, username="koord.audit", region=region)
    client = client_for(None, user)
    data = {"letter_number": "045/112", "letter_date": dt.date.today().isoformat(),
            "contact_name": "A", "contact_phone": "0334-1", "contact_email": "a@b.id",
            "network_scheme": "ip_pbx", "address": "x", "latitude": "-8.13",
            "longitude": "113.22", "letter": SimpleUploadedFile("s.pdf", pdf_bytes)}
    mark = _last_id()
    assert client.post(f"/pemda/{region.code}/application/", data).status_code == 302
    (first,) = _new(mark, action="onboarding.evidence_saved")
    assert (first.target_type, first.target_label) == ("application", "Kabupaten Lumajang")
    assert first.before == {} and first.after["letter_number"] == "045/112"
    mark = _last_id()
    data.pop("letter")
    data["contact_name"] = "B"
    assert client.post(f"/pemda/{region.code}/application/", data).status_code == 302
    (second,) = _new(mark, action="onboarding.evidence_saved")
    assert (second.before, second.after) == ({"contact_name": "A"}, {"contact_name": "B"})
    assert second.actor_username == "koord.audit"


@pytest.mark.django_db
def test_invitation_issue_and_acceptance_are_in_both_trails(tenant_a, demo_user):
    mark = _last_id()
    created = invitation_create(region=tenant_a.region, email="admin@dairi.go.id",
                                actor=demo_user("nasional"))
    (issued,) = _new(mark, action="invitation.created")
    assert issued.target_label == "Kabupaten Dairi" and issued.after["email"] == "admin@dairi.go.id"
    assert issued.actor_username == "nasional"
    token = created.url.rstrip("/").rsplit("/", 1)[1]
    with schema_context(tenant_a.schema_name):
        tenant_mark = _last_id()
    accepted = Client(HTTP_HOST="dairi.localhost").post(
        f"/accounts/invite/{token}/",
        {"username": "admin.audit", "password1": PASSWORD, "password2": PASSWORD})
    assert accepted.status_code == 302
    with schema_context("public"):  # the request left the connection on Dairi's schema
        (public_row,) = _new(mark, action="invitation.accepted")
    assert public_row.target_id == str(created.invitation.pk)
    assert public_row.after["username"] == "admin.audit" and public_row.before == {"used_at": None}
    with schema_context(tenant_a.schema_name):
        new_admin = User.objects.get(username="admin.audit")
        (tenant_row,) = _new(tenant_mark, action="invitation.accepted")
        assert (tenant_row.target_type, tenant_row.target_id) == ("user", str(new_admin.pk))
        assert tenant_row.actor_username == "admin.audit"
        assert tenant_row.after == {"username": "admin.audit", "role": "pemda_admin"}
