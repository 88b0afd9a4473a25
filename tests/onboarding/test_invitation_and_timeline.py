"""The one-time Pemda-admin link: only on its own Pemda's host, once, before it
expires. And the timeline cannot be rewritten."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.invitations import invitation_create
from accounts.models import AdminInvitation, Role, User
from onboarding.models import AppendOnlyError, TimelineEntry

PASSWORD = "Sirene-pagi-4471"


def _accept(host: str, token: str, username: str = "admin.baru"):
    return Client(HTTP_HOST=host).post(
        f"/accounts/invite/{token}/",
        {"username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def _users(schema: str, username: str) -> int:
    with schema_context(schema):
        return User.objects.filter(username=username).count()


@pytest.mark.django_db
def test_invitation_only_works_on_its_own_pemda_once(tenant_a, tenant_b):
    created = invitation_create(region=tenant_a.region, email="", actor=None)
    token = created.url.rstrip("/").rsplit("/", 1)[1]
    assert created.url == f"http://dairi.localhost:8000/accounts/invite/{token}/"
    # Another Pemda's host, and the national host: the same 404, nothing created.
    assert _accept("sidoarjo.localhost", token).status_code == 404
    assert _accept("localhost", token).status_code == 404
    assert _users(tenant_b.schema_name, "admin.baru") == 0
    assert _users("public", "admin.baru") == 0
    # Mismatched passwords: a clear message, the link still usable.
    bad = Client(HTTP_HOST="dairi.localhost").post(
        f"/accounts/invite/{token}/",
        {"username": "admin.baru", "password1": PASSWORD, "password2": PASSWORD + "x"})
    assert bad.status_code == 400 and "Kedua kata sandi berbeda." in bad.content.decode()
    assert _accept("dairi.localhost", token).status_code == 302
    with schema_context(tenant_a.schema_name):
        assert User.objects.get(username="admin.baru").role == Role.PEMDA_ADMIN
    assert _accept("dairi.localhost", token, "admin.kedua").status_code == 404
    assert _users(tenant_a.schema_name, "admin.kedua") == 0


@pytest.mark.django_db
def test_expired_or_superseded_invitation_is_refused(tenant_a):
    first = invitation_create(region=tenant_a.region, email="", actor=None)
    second = invitation_create(region=tenant_a.region, email="", actor=None)
    first_token = first.url.rstrip("/").rsplit("/", 1)[1]
    second_token = second.url.rstrip("/").rsplit("/", 1)[1]
    assert _accept("dairi.localhost", first_token).status_code == 404  # superseded
    AdminInvitation.objects.filter(pk=second.invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _accept("dairi.localhost", second_token).status_code == 404
    assert _users(tenant_a.schema_name, "admin.baru") == 0


@pytest.mark.django_db
def test_timeline_is_append_only():
    entry = TimelineEntry.objects.filter(onboarding_id="12.11").first()
    entry.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert TimelineEntry.objects.get(pk=entry.pk).note != "rewritten"


@pytest.mark.django_db
def test_readvancing_into_installation_keeps_an_accepted_admin(demo_user):
    from django.utils import timezone as tz

    from onboarding.models import PemdaOnboarding, Stage
    from onboarding.services import onboarding_advance, onboarding_send_back

    nasional = demo_user("nasional")
    ob = PemdaOnboarding.objects.filter(stage=Stage.INSTALLATION, is_demo=True).first()

    def back_and_forth():
        v = PemdaOnboarding.objects.get(pk=ob.pk).version
        onboarding_send_back(region_code=ob.pk, actor=nasional, expected_version=v,
                             reason="Surat operator perlu diulang")
        return onboarding_advance(region_code=ob.pk, actor=nasional, expected_version=v + 1)

    first = back_and_forth()
    assert first.to_stage == Stage.INSTALLATION and first.invitation_url
    AdminInvitation.objects.filter(region_id=ob.pk).update(used_at=tz.now())
    again = back_and_forth()
    assert again.to_stage == Stage.INSTALLATION and again.invitation_url is None
    assert AdminInvitation.objects.filter(region_id=ob.pk).count() == 1
