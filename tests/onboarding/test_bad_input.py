"""Bad input is refused on the field with a message a person can act on, and
nothing is saved (no evidence row, no timeline entry, no file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from onboarding.models import Application, Launch, PemdaOnboarding, TimelineEntry, VerificationVisit
from onboarding.validators import MAX_LETTER_BYTES

DAIRI = "12.11"
KOTAMOBAGU = "71.74"


def _application(pdf: bytes, name: str = "surat.pdf", **overrides) -> dict:
    data = {
        "letter": SimpleUploadedFile(name, pdf, content_type="application/pdf"),
        "letter_number": "045/9/2025", "letter_date": "2025-01-10", "contact_name": "A",
        "contact_phone": "0811", "contact_email": "a@dairikab.go.id", "network_scheme": "ip_pbx",
        "address": "Sidikalang", "latitude": "2.74", "longitude": "98.31",
    }
    data.update(overrides)
    return data


def _state(code: str) -> tuple:
    ob = PemdaOnboarding.objects.get(pk=code)
    app = Application.objects.filter(onboarding_id=code).values().first()
    return (ob.stage, ob.version, TimelineEntry.objects.filter(onboarding_id=code).count(), app,
            VerificationVisit.objects.filter(onboarding_id=code).count(),
            Launch.objects.filter(onboarding_id=code).values().first())


def _letters_on_disk(code: str) -> set[str]:
    folder = Path(settings.MEDIA_ROOT) / "onboarding" / "letters" / code
    return {p.name for p in folder.glob("*")} if folder.exists() else set()


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["not_pdf_renamed", "too_large", "lat_outside", "lng_outside"])
def test_application_bad_input(as_user, pdf_bytes, case):
    client = as_user("koordinator.dairi")
    if case == "not_pdf_renamed":
        data = _application(b"PK\x03\x04 this is a docx renamed to pdf", name="surat.pdf")
        field, message = "letter", "harus berupa berkas PDF"
    elif case == "too_large":
        data = _application(pdf_bytes + b"0" * MAX_LETTER_BYTES)
        field, message = "letter", "batasnya 10 MB"
    elif case == "lat_outside":
        data = _application(pdf_bytes, latitude="51.50")
        field, message = "latitude", "di luar Indonesia"
    else:
        data = _application(pdf_bytes, longitude="-0.12")
        field, message = "longitude", "di luar Indonesia"
    before, files = _state(DAIRI), _letters_on_disk(DAIRI)
    response = client.post(f"/pemda/{DAIRI}/application/", data)
    assert response.status_code == 400
    form = response.context["forms"]["application"]
    assert any(message in e for e in form.errors[field]), form.errors
    assert message in response.content.decode()
    assert _state(DAIRI) == before
    assert _letters_on_disk(DAIRI) == files


@pytest.mark.django_db
def test_verification_date_in_the_future(as_user):
    # The Pemda's day (WIB): from 17:00 UTC UTC's tomorrow is already today there.
    tomorrow = (timezone.localdate(timezone=ZoneInfo("Asia/Jakarta")) + dt.timedelta(days=1)).isoformat()
    before = _state(DAIRI)
    response = as_user("nasional").post(f"/pemda/{DAIRI}/verification/", {
        "visited_on": tomorrow, "verifier": "Tim", "supervisors": 1, "agents": 2, "opd_teams": 3,
        "result": "passed"})
    assert response.status_code == 400
    errors = response.context["forms"]["verification"].errors["visited_on"]
    assert errors == [f"{tomorrow} ada di masa depan: catat setelah terjadi."]
    assert _state(DAIRI) == before


@pytest.mark.django_db
def test_rework_visit_needs_notes(as_user):
    before = _state(DAIRI)
    response = as_user("nasional").post(f"/pemda/{DAIRI}/verification/", {
        "visited_on": "2024-01-01", "verifier": "Tim", "supervisors": 1, "agents": 2,
        "opd_teams": 3, "result": "rework", "notes": ""})
    assert response.status_code == 400
    assert response.context["forms"]["verification"].errors["notes"]
    assert _state(DAIRI) == before


@pytest.mark.django_db
def test_launch_date_before_the_trial_started(as_user):
    from zoneinfo import ZoneInfo

    from onboarding.selectors import trial_started_at

    ob = PemdaOnboarding.objects.get(pk=DAIRI)
    # The day as the page and the check read it: in Dairi's zone (WIB), not in UTC
    # (a trial started after 17:00 UTC began on the next day in Dairi).
    started = timezone.localdate(trial_started_at(ob), ZoneInfo("Asia/Jakarta"))
    too_early = (started - dt.timedelta(days=1)).isoformat()
    before = _state(DAIRI)
    response = as_user("nasional").post(f"/pemda/{DAIRI}/launch/", {
        "launched_on": too_early, "launched_by": "Bupati Dairi"})
    assert response.status_code == 400
    errors = response.context["forms"]["launch"].errors["launched_on"]
    assert errors == [
        f"Tanggal peluncuran tidak boleh sebelum uji coba dimulai ({started.isoformat()})."]
    assert _state(DAIRI) == before
    # The same day the trial started is fine.
    ok = as_user("nasional").post(f"/pemda/{DAIRI}/launch/", {
        "launched_on": started.isoformat(), "launched_by": "Bupati Dairi"})
    assert ok.status_code == 302
    assert Launch.objects.get(onboarding_id=DAIRI).launched_on == started


@pytest.mark.django_db
def test_launch_before_trial_is_refused_in_training(as_user):
    before = _state(KOTAMOBAGU)
    response = as_user("nasional").post(f"/pemda/{KOTAMOBAGU}/launch/", {
        "launched_on": "2025-01-01", "launched_by": "Walikota"})
    assert response.status_code == 400
    assert "Uji coba belum dimulai." in response.content.decode()
    assert _state(KOTAMOBAGU) == before


@pytest.mark.django_db
def test_a_valid_letter_is_stored_and_served(as_user, pdf_bytes):
    client = as_user("koordinator.dairi")
    response = client.post(f"/pemda/{DAIRI}/application/", _application(pdf_bytes, name="baru.pdf"))
    assert response.status_code == 302
    app = Application.objects.get(onboarding_id=DAIRI)
    assert app.letter.name.startswith(f"onboarding/letters/{DAIRI}/baru")
    served = b"".join(client.get(f"/pemda/{DAIRI}/surat.pdf").streaming_content)
    assert served == pdf_bytes
    app.letter.delete(save=False)
