"""The weekly digest: national officers get the stalled Pemda and the week's
new applications by email; beat runs it every Monday."""

from __future__ import annotations

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core import mail
from django.utils import translation

from accounts.models import Role
from onboarding import selectors
from onboarding.models import PemdaOnboarding, Stage
from onboarding.services import onboarding_advance
from onboarding.tasks import weekly_digest_task
from tenants.models import Region


def test_beat_schedules_the_digest_weekly():
    entry = settings.CELERY_BEAT_SCHEDULE["onboarding-weekly-digest"]
    assert entry["task"] == weekly_digest_task.name == "onboarding.weekly_digest"
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.day_of_week == {1} and schedule.hour == {1} and schedule.minute == {0}


@pytest.mark.django_db
def test_digest_lists_stalled_and_new_submissions(make_user, demo_user, pdf_bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from onboarding.services import application_save

    make_user(None, Role.NATIONAL_OFFICER, username="nasional.b", email="b@komdigi.go.id")
    make_user(None, Role.AUDITOR, username="aud.b", email="aud@komdigi.go.id")
    region = Region.objects.get(name="Kabupaten Jember")
    application_save(
        region_code=region.code, actor=None,
        letter=SimpleUploadedFile("s.pdf", pdf_bytes), letter_number="1", letter_date=None,
        contact_name="Budi Santoso", contact_phone="0811", contact_email="x@jemberkab.go.id",
        network_scheme="sip_trunk", address="Jember", latitude="-8.17", longitude="113.70",
    )
    from onboarding.models import Application

    Application.objects.filter(onboarding_id=region.code).update(letter_date="2025-01-01")
    onboarding_advance(region_code=region.code, actor=demo_user("nasional"),
                       expected_version=PemdaOnboarding.objects.get(pk=region.code).version)
    mail.outbox.clear()
    recipients = weekly_digest_task.apply().get()
    assert recipients == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["b@komdigi.go.id", "nasional@komdigi.go.id"]
    stalled = list(selectors.stalled())
    assert f"{len(stalled)} tertahan, 1 permohonan baru" in message.subject
    assert "Kabupaten Jember (Jawa Timur)" in message.body
    with translation.override("id"):  # the digest is written in Indonesian
        for ob in stalled:
            label = str(Stage(ob.stage).label)
            assert f"{ob.region.name} ({ob.region.parent.name}): {label}" in message.body
    assert "Budi Santoso" not in message.body  # personal data stays out of the digest
