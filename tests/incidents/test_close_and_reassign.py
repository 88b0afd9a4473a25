"""What a supervisor on a night shift trips over: closing a critical incident
nobody was sent to, a stopped clock on a closed incident, and a reassign that
must be chosen rather than defaulting to the alphabetically first OPD."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from incidents.models import Agency, Category, Incident, Priority

from .conftest import post_json

pytestmark = pytest.mark.django_db


def _new_incident(client, key: str, category_code: str) -> int:
    answer = post_json(client, "/incidents/", {
        "category": category_code, "latitude": "2.74", "longitude": "98.31",
        "address": "Jl. Sisingamangaraja", "description": "uji", "idempotency_key": key,
        "force": "1"})
    assert answer.status_code == 201, answer.content
    return int(answer.json()["id"])


def _critical_code(tenant) -> str:
    with schema_context(tenant.schema_name):
        return Category.objects.filter(priority=Priority.CRITICAL, active=True).values_list(
            "code", flat=True).first()


def _status(tenant, incident_id: int) -> str:
    with schema_context(tenant.schema_name):
        return Incident.objects.get(pk=incident_id).status


def test_an_undispatched_critical_incident_closes_only_when_confirmed(tenant_a, as_user):
    code = _critical_code(tenant_a)
    assert code, "the demo seeds at least one critical category"
    supervisor = as_user(tenant_a, "supervisor")
    incident_id = _new_incident(as_user(tenant_a, "operator1"), "close-p1-a", code)

    page = supervisor.get(f"/incidents/{incident_id}/").content.decode()
    assert 'name="confirm_undispatched"' in page and "tetap tutup" in page

    refused = post_json(supervisor, f"/incidents/{incident_id}/close/", {"note": "salah klik"})
    assert refused.status_code == 400
    assert refused.json()["field"] == "confirm_undispatched"
    assert refused.json()["code"] == "confirm_required"
    assert _status(tenant_a, incident_id) != "closed"

    browser = supervisor.post(f"/incidents/{incident_id}/close/", {"note": "salah klik"})
    assert browser.status_code == 400 and "Centang" in browser.content.decode()
    assert _status(tenant_a, incident_id) != "closed"

    closed = supervisor.post(f"/incidents/{incident_id}/close/",
                             {"note": "laporan ganda", "confirm_undispatched": "1"})
    assert closed.status_code == 302
    assert _status(tenant_a, incident_id) == "closed"


def test_a_dispatched_critical_or_a_lower_priority_incident_closes_without_it(
        tenant_a, as_user):
    supervisor = as_user(tenant_a, "supervisor")
    operator = as_user(tenant_a, "operator1")
    critical = _new_incident(operator, "close-p1-b", _critical_code(tenant_a))
    with schema_context(tenant_a.schema_name):
        agency = Agency.objects.filter(active=True).order_by("pk").first()
        low_code = Category.objects.filter(priority__gt=Priority.CRITICAL, active=True).values_list(
            "code", flat=True).first()
    assert operator.post(f"/incidents/{critical}/dispatch/", {"agency": agency.pk}).status_code in (
        200, 204, 302)
    assert supervisor.post(f"/incidents/{critical}/close/", {"note": "selesai"}).status_code == 302
    assert _status(tenant_a, critical) == "closed"

    low = _new_incident(operator, "close-p3", low_code)
    page = supervisor.get(f"/incidents/{low}/").content.decode()
    assert 'name="confirm_undispatched"' not in page
    assert supervisor.post(f"/incidents/{low}/close/", {"note": "selesai"}).status_code == 302
    assert _status(tenant_a, low) == "closed"


def test_a_closed_incident_shows_how_long_it_was_open_and_the_clock_stops(tenant_a, as_user):
    supervisor = as_user(tenant_a, "supervisor")
    incident_id = _new_incident(as_user(tenant_a, "operator1"), "close-clock",
                                _critical_code(tenant_a))
    supervisor.post(f"/incidents/{incident_id}/close/", {"note": "x", "confirm_undispatched": "1"})
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.get(pk=incident_id)
        # Pretend the incident was opened an hour before it was closed.
        Incident.objects.filter(pk=incident_id).update(
            created_at=incident.closed_at - __import__("datetime").timedelta(hours=1))

    def shown() -> str:
        live = supervisor.get(f"/incidents/{incident_id}/live/").content.decode()
        found = re.search(r"ditutup setelah ([^<]+)</small>", live)
        assert found, live[:400]
        return found.group(1).strip()

    first = shown()
    assert first == "1:00:00", first
    assert shown() == first  # asked again later: the same figure, not a running clock


def test_reassign_has_no_default_agency_and_names_agencies_not_codes(tenant_a, as_user):
    supervisor = as_user(tenant_a, "supervisor")
    operator = as_user(tenant_a, "operator1")
    incident_id = _new_incident(operator, "reassign-default", _critical_code(tenant_a))
    with schema_context(tenant_a.schema_name):
        agency = Agency.objects.filter(active=True).order_by("pk").first()
    operator.post(f"/incidents/{incident_id}/dispatch/", {"agency": agency.pk})
    live = supervisor.get(f"/incidents/{incident_id}/live/").content.decode()
    select = re.search(r'<select name="agency"[^>]*required[^>]*>(.*?)</select>', live, re.S)
    assert select, "the reassign select is required"
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(1))
    assert options[0][0].strip().startswith('value=""') and "selected" in options[0][0]
    assert all(" selected" not in attrs for attrs, _ in options[1:])
    with schema_context(tenant_a.schema_name):
        codes = set(Agency.objects.values_list("code", flat=True))
    assert not codes & {label.strip() for _, label in options}


def test_after_a_dispatch_no_suggestion_has_focus_or_the_highlight(tenant_a, as_user):
    operator = as_user(tenant_a, "operator1")
    incident_id = _new_incident(operator, "focus-after-dispatch", "fire")
    before = operator.get(f"/incidents/{incident_id}/").content.decode()
    suggestion = re.search(r'<form[^>]*id="suggestion".*?</form>', before, re.S).group(0)
    assert suggestion.count("autofocus") == 1 and "btn-danger" in suggestion

    first = re.search(r'name="agency" value="(\d+)"', suggestion).group(1)
    assert operator.post(f"/incidents/{incident_id}/dispatch/", {"agency": first}).status_code == 302
    after = operator.get(f"/incidents/{incident_id}/").content.decode()
    suggestion = re.search(r'<form[^>]*id="suggestion".*?</form>', after, re.S).group(0)
    assert "autofocus" not in suggestion and "btn-danger" not in suggestion
    assert f'value="{first}"' not in suggestion  # the OPD already sent is not offered again


def test_the_timeline_names_statuses_and_agencies_never_codes(tenant_a, as_user):
    supervisor = as_user(tenant_a, "supervisor")
    operator = as_user(tenant_a, "operator1")
    incident_id = _new_incident(operator, "timeline-words", "fire")
    with schema_context(tenant_a.schema_name):
        damkar, polres = (Agency.objects.get(code=c) for c in ("damkar", "polres"))
    operator.post(f"/incidents/{incident_id}/dispatch/", {"agency": damkar.pk})
    with schema_context(tenant_a.schema_name):
        dispatch_id = Incident.objects.get(pk=incident_id).dispatches.get().pk
    supervisor.post(f"/dispatches/{dispatch_id}/reassign/", {"agency": polres.pk})
    supervisor.post(f"/incidents/{incident_id}/close/", {"note": "selesai"})

    live = supervisor.get(f"/incidents/{incident_id}/live/").content.decode()
    timeline = re.search(r'<ol[^>]*id="timeline">(.*?)</ol>', live, re.S).group(1)
    text = re.sub(r"<[^>]+>", " ", timeline)
    for raw in ("open →", "→ dispatched", "→ closed", " damkar", " polres", " psc119"):
        assert raw not in text, (raw, text)
    assert "Terbuka → Diteruskan" in text and "→ Ditutup" in text, text
    assert damkar.name in text and f"→ {polres.name}" in text


def test_the_handover_names_call_types_in_words(tenant_a, as_user):
    from django.utils import timezone

    from incidents.models import Call

    with schema_context(tenant_a.schema_name):
        for n, kind in enumerate(("emergency", "prank", "")):
            Call.objects.create(external_id=f"handover-words-{n}", caller="+6281234560001",
                                call_type=kind, state="ended", ringing_at=timezone.now(),
                                is_test=False)
    page = as_user(tenant_a, "supervisor").get("/supervisor/handover/?hours=12").content.decode()
    line = re.search(r"Panggilan per jenis:([^<]*)", page)
    assert line, page[:300]
    words = line.group(1)
    assert "Darurat 1" in words and "Iseng" in words and "Belum diklasifikasi 1" in words, words
    assert "emergency" not in words and "unclassified" not in words, words
