"""Call-takers' presence (available / on a call / away), ringing calls offered to the
free call-takers first for the Pemda's offer window, and trunk codes shown as names."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from audit.models import AuditEntry
from incidents import call_routing, live
from incidents.models import Call, IncidentSettings, OperatorPresence
from incidents.services import calls as call_services
from incidents.services import presence as presence_services
from tests.incidents.conftest import post_json

pytestmark = pytest.mark.django_db


def _ring(tenant, *, seconds_ago: float = 0, trunk: str = "T") -> Call:
    with schema_context(tenant.schema_name):
        result = call_services.pbx_event_record(
            event="ringing", external_id=f"route-{uuid.uuid4().hex[:12]}",
            caller_raw=f"+62812{uuid.uuid4().int % 10**7:07d}", trunk=trunk,
            at=timezone.now() - timedelta(seconds=seconds_ago), is_test=True)
        return result.call


def _set(tenant, tenant_user, username: str, status: str) -> None:
    user = tenant_user(tenant, username)
    with schema_context(tenant.schema_name):
        presence_services.presence_set(user=user, status=status, actor=user)


def _busy(tenant, tenant_user, username: str) -> Call:
    """`username` answers a call of their own: on a call until it ends."""
    call = _ring(tenant, seconds_ago=30)
    with schema_context(tenant.schema_name):
        call_services.call_answer(call_id=call.pk, operator=tenant_user(tenant, username))
    return call


def _ringing_ids(client) -> list[str]:
    page = client.get("/console/calls/", HTTP_HX_REQUEST="true").content.decode()
    return [c.split('"', 1)[0] for c in page.split('data-call="')[1:]]


def _alert(client, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get("/console/ringing/", HTTP_HX_REQUEST="true", **headers)


def _count(response) -> int:
    text = response.content.decode()
    return int(text.split('data-count="', 1)[1].split('"', 1)[0])


# --- routing ------------------------------------------------------------------------------


def test_a_new_call_rings_first_for_the_free_call_taker_not_the_busy_one(
        tenant_a, as_user, tenant_user):
    _set(tenant_a, tenant_user, "operator1", "available")
    _set(tenant_a, tenant_user, "operator2", "available")
    _busy(tenant_a, tenant_user, "operator2")  # available, but talking to a caller
    call = _ring(tenant_a)
    free, busy = as_user(tenant_a, "operator1"), as_user(tenant_a, "operator2")
    assert call.external_id in _ringing_ids(free)
    assert call.external_id not in _ringing_ids(busy)
    assert _count(_alert(free)) == 1 and _count(_alert(busy)) == 0
    # An away call-taker waits for the window too.
    supervisor = as_user(tenant_a, "supervisor")
    assert call.external_id not in _ringing_ids(supervisor)
    # The supervisor's board (oversight) lists every ringing call.
    board = supervisor.get("/supervisor/board/", HTTP_HX_REQUEST="true").content.decode()
    assert call.caller in board


def test_after_the_offer_window_the_call_rings_for_everyone(tenant_a, as_user, tenant_user):
    _set(tenant_a, tenant_user, "operator1", "available")
    window = 10
    old = _ring(tenant_a, seconds_ago=window + 1)
    new = _ring(tenant_a)
    away = as_user(tenant_a, "operator2")
    shown = _ringing_ids(away)
    assert old.external_id in shown and new.external_id not in shown


def test_nobody_free_rings_for_everyone_at_once(tenant_a, as_user, tenant_user):
    # Nobody available (all away by default), then the only available one on a call.
    call = _ring(tenant_a)
    for who in ("operator1", "operator2", "supervisor"):
        assert call.external_id in _ringing_ids(as_user(tenant_a, who)), who
    _set(tenant_a, tenant_user, "operator1", "available")
    assert call.external_id not in _ringing_ids(as_user(tenant_a, "operator2"))
    _busy(tenant_a, tenant_user, "operator1")
    assert call.external_id in _ringing_ids(as_user(tenant_a, "operator2"))
    assert call.external_id in _ringing_ids(as_user(tenant_a, "operator1"))


def test_a_zero_offer_window_rings_for_everyone_at_once(tenant_a, as_user, tenant_user):
    _set(tenant_a, tenant_user, "operator1", "available")
    with schema_context(tenant_a.schema_name):
        IncidentSettings.objects.update_or_create(pk=1, defaults={"offer_window_seconds": 0})
    call = _ring(tenant_a)
    assert call.external_id in _ringing_ids(as_user(tenant_a, "operator2"))


def test_a_deactivated_available_user_does_not_hold_calls_back(tenant_a, as_user, tenant_user):
    _set(tenant_a, tenant_user, "operator1", "available")
    with schema_context(tenant_a.schema_name):
        user = tenant_user(tenant_a, "operator1")
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        assert call_routing.free_operator_ids() == set()
    call = _ring(tenant_a)
    assert call.external_id in _ringing_ids(as_user(tenant_a, "operator2"))


def test_the_304_does_not_hide_a_call_whose_offer_window_ends(tenant_a, as_user, tenant_user):
    """Nothing is written when the window ends: the ETag must change by the clock,
    on the early path (Redis scope) and on the full path alike."""
    _set(tenant_a, tenant_user, "operator1", "available")
    window = 10
    # Its window ends 1.5 s from now.
    call = _ring(tenant_a, seconds_ago=window - 1.5)
    busy = as_user(tenant_a, "operator2")
    first = _alert(busy)
    assert first.status_code == 200 and _count(first) == 0
    # A page on the pushed stream skips its polls: it is told when to look again.
    assert 0.5 < float(first["Siaga-Refresh-In"]) <= 1.5
    again = _alert(busy, first["ETag"])
    assert again.status_code == 304  # same counters, same clock token, before the window
    assert 0.0 < float(again["Siaga-Refresh-In"]) <= 1.5
    time.sleep(1.7)
    late = _alert(busy, first["ETag"])
    assert late.status_code == 200, "the window ended: the call must show"
    assert _count(late) == 1 and call.external_id in late.content.decode()
    assert late["ETag"] != first["ETag"]
    assert _alert(busy, late["ETag"]).status_code == 304
    # The full path alone (no remembered scope: another Redis-less view of it) agrees.
    live.scope_drop(busy.defaults["HTTP_HOST"], busy.cookies[settings.SESSION_COOKIE_NAME].value)
    assert _alert(busy, first["ETag"]).status_code == 200
    assert _alert(busy, late["ETag"]).status_code == 304


def test_a_presence_change_re_renders_the_ringing_alert(
        tenant_a, as_user, tenant_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _set(tenant_a, tenant_user, "operator1", "available")
    _ring(tenant_a)
    busy = as_user(tenant_a, "operator2")
    first = _alert(busy)
    assert _count(first) == 0
    # operator1 goes away: nobody is free, the call rings for everyone now.
    with django_capture_on_commit_callbacks(execute=True):
        _set(tenant_a, tenant_user, "operator1", "away")
    after = _alert(busy, first["ETag"])
    assert after.status_code == 200 and _count(after) == 1


# --- presence endpoints from outside --------------------------------------------------------


def _status(tenant, tenant_user, username):
    with schema_context(tenant.schema_name):
        return (OperatorPresence.objects.filter(user=tenant_user(tenant, username))
                .values_list("status", flat=True).first())


def _audits(tenant):
    with schema_context(tenant.schema_name):
        return AuditEntry.objects.filter(action="presence.changed").count()


def test_presence_set_by_the_call_taker_is_audited(tenant_a, as_user, tenant_user):
    before = _audits(tenant_a)
    op = as_user(tenant_a, "operator1")
    answer = post_json(op, "/console/presence/", {"status": "available"})
    assert answer.status_code == 200 and answer.json()["status"]["status"] == "available"
    assert _status(tenant_a, tenant_user, "operator1") == "available"
    assert _audits(tenant_a) == before + 1
    with schema_context(tenant_a.schema_name):
        entry = AuditEntry.objects.filter(action="presence.changed").latest("pk")
        assert entry.actor_username == "operator1"
        assert entry.before == {"status": "away"}
        assert entry.after == {"status": "available", "reason": "operator"}
    # The same again changes and audits nothing.
    post_json(op, "/console/presence/", {"status": "available"})
    assert _audits(tenant_a) == before + 1
    # The form post from the navbar goes back to the page it came from.
    back = op.post("/console/presence/", {"status": "away", "next": "/incidents/"})
    assert back.status_code == 302 and back["Location"] == "/incidents/"
    evil = op.post("/console/presence/", {"status": "away", "next": "https://evil.example/"})
    assert evil["Location"] == "/console/"


def test_presence_bad_input_names_the_field_and_changes_nothing(tenant_a, as_user, tenant_user):
    before = _audits(tenant_a)
    answer = post_json(as_user(tenant_a, "operator1"), "/console/presence/", {"status": "busy"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["field"] == "status" and body["status"] == 400 and body["code"]
    assert _status(tenant_a, tenant_user, "operator1") is None
    assert _audits(tenant_a) == before


@pytest.mark.parametrize("who", ["damkar", "bupati", "admin"])
def test_presence_wrong_roles_are_refused_and_nothing_changes(tenant_a, as_user, tenant_user, who):
    before = _audits(tenant_a)
    answer = as_user(tenant_a, who).post("/console/presence/", {"status": "available"})
    assert answer.status_code == 403
    assert _status(tenant_a, tenant_user, who) is None
    assert as_user(tenant_a, who).get("/supervisor/presence/").status_code == 403
    assert _audits(tenant_a) == before


def test_presence_anonymous_and_another_pemda_are_nobody(
        tenant_a, tenant_b, as_user, client_for, tenant_user):
    before = _audits(tenant_a)
    anonymous = client_for(tenant_a).post("/console/presence/", {"status": "available"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert client_for(tenant_a).get("/supervisor/presence/").status_code == 302
    # Sidoarjo's operator brings their session to Dairi's host.
    theirs = as_user(tenant_b, "operator1")
    stranger = client_for(tenant_a)
    stranger.cookies[settings.SESSION_COOKIE_NAME] = (
        theirs.cookies[settings.SESSION_COOKIE_NAME].value)
    answer = stranger.post("/console/presence/", {"status": "available"})
    assert answer.status_code == 302 and "/accounts/login/" in answer["Location"]
    assert _status(tenant_a, tenant_user, "operator1") is None
    assert _status(tenant_b, tenant_user, "operator1") is None
    assert _audits(tenant_a) == before
    # The supervisor's board of one Pemda lists only its own call-takers.
    _set(tenant_b, tenant_user, "operator1", "available")
    board = as_user(tenant_a, "supervisor").get("/supervisor/presence/").content.decode()
    assert 'data-state="available"' not in board


def test_signing_out_sets_away_and_is_audited(tenant_a, as_user, tenant_user):
    op = as_user(tenant_a, "operator1")
    post_json(op, "/console/presence/", {"status": "available"})
    op.post("/accounts/logout/")
    assert _status(tenant_a, tenant_user, "operator1") == "away"
    with schema_context(tenant_a.schema_name):
        entry = AuditEntry.objects.filter(action="presence.changed").latest("pk")
        assert entry.after == {"status": "away", "reason": "signed_out"}


def test_no_heartbeat_for_the_timeout_sets_away(tenant_a, as_user, tenant_user):
    _set(tenant_a, tenant_user, "operator1", "available")
    _set(tenant_a, tenant_user, "operator2", "available")
    # operator2's page polls (the ringing watcher is the heartbeat); operator1's does not.
    one, two = tenant_user(tenant_a, "operator1"), tenant_user(tenant_a, "operator2")
    client = as_user(tenant_a, "operator2")
    first = _alert(client)
    # The early 304 (Redis alone) records the heartbeat too.
    live._redis().delete(live._heartbeat_key(tenant_a.schema_name, two.pk))
    assert _alert(client, first["ETag"]).status_code == 304
    assert live.heartbeats(tenant_a.schema_name, [two.pk])[two.pk] is not None
    with schema_context(tenant_a.schema_name):
        OperatorPresence.objects.filter(user=one).update(
            changed_at=timezone.now() - timedelta(minutes=10))
        OperatorPresence.objects.filter(user=two).update(
            changed_at=timezone.now() - timedelta(minutes=10))
        live._redis().delete(live._heartbeat_key(tenant_a.schema_name, one.pk))
        assert presence_services.presence_expire_stale() == 1
        # Four minutes later operator2's last beat is past the 3-minute default.
        assert presence_services.presence_expire_stale(now=time.time() + 240) == 1
        entry = AuditEntry.objects.filter(action="presence.changed").latest("pk")
        assert entry.actor_username == "" and entry.after["reason"] == "no_heartbeat"
    assert _status(tenant_a, tenant_user, "operator1") == "away"
    assert _status(tenant_a, tenant_user, "operator2") == "away"


def test_the_supervisor_sees_who_is_available_on_a_call_and_away(
        tenant_a, as_user, tenant_user):
    _set(tenant_a, tenant_user, "operator1", "available")
    _set(tenant_a, tenant_user, "operator2", "available")
    call = _busy(tenant_a, tenant_user, "operator2")
    board = as_user(tenant_a, "supervisor").get("/supervisor/presence/").content.decode()
    assert 'data-user="operator1" data-state="available"' in board
    assert 'data-user="operator2" data-state="on_call"' in board
    assert 'data-user="supervisor" data-state="away"' in board
    assert "Dalam panggilan" in board
    # The call ends: operator2 is available again.
    with schema_context(tenant_a.schema_name):
        call_services.pbx_event_record(event="ended", external_id=call.external_id,
                                       caller_raw="", trunk="", at=timezone.now(),
                                       is_test=True)
    board = as_user(tenant_a, "supervisor").get("/supervisor/presence/").content.decode()
    assert 'data-user="operator2" data-state="available"' in board
    for page in ("/supervisor/", "/supervisor/handover/"):
        assert 'id="presence-board"' in as_user(tenant_a, "supervisor").get(page).content.decode()
    assert 'id="presence-board"' not in as_user(tenant_a, "bupati").get(
        "/supervisor/handover/").content.decode()


def test_the_navbar_shows_and_switches_presence(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    page = op.get("/incidents/").content.decode()
    assert 'id="presence-item" data-status="away"' in page
    op.post("/console/presence/", {"status": "available"})
    page = op.get("/incidents/").content.decode()
    assert 'id="presence-item" data-status="available"' in page
    assert 'id="presence-item"' not in as_user(tenant_a, "damkar").get("/opd/").content.decode()


# --- trunk names --------------------------------------------------------------------------


def test_the_ringing_list_shows_the_line_name_not_the_trunk_code(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    saved = admin.post("/manage/settings/", {"trunk_labels": "tsel-112-a = Telkomsel 112\n"})
    assert saved.status_code in (200, 302), saved.content[:300]
    named = _ring(tenant_a, trunk="tsel-112-a")
    hinted = _ring(tenant_a, trunk="isat-7")
    sim = _ring(tenant_a, trunk="sim-trunk")
    odd = _ring(tenant_a, trunk="trk-0042")
    page = as_user(tenant_a, "operator1").get(
        "/console/calls/", HTTP_HX_REQUEST="true").content.decode()
    assert named.external_id in page and "Telkomsel 112" in page and "tsel-112-a" not in page
    assert hinted.external_id in page and "Indosat Ooredoo Hutchison" in page
    assert sim.external_id in page and "sim-trunk" not in page
    assert odd.external_id in page and "trk-0042" not in page
    english = as_user(tenant_a, "operator1")
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page_en = english.get("/console/calls/", HTTP_HX_REQUEST="true").content.decode()
    assert "Simulation line" in page_en and "Other line" in page_en
    assert "Jalur simulasi" in page and "Jalur lain" in page


def test_bad_trunk_names_are_refused_naming_the_field(tenant_a, as_user):
    with schema_context(tenant_a.schema_name):
        before = IncidentSettings.load().trunk_labels
    answer = post_json(as_user(tenant_a, "admin"), "/manage/settings/",
                       {"trunk_labels": "tsel-112 Telkomsel", "offer_window_seconds": 5})
    assert answer.status_code == 400 and answer.json()["field"] == "trunk_labels"
    answer = post_json(as_user(tenant_a, "admin"), "/manage/settings/",
                       {"offer_window_seconds": 600})
    assert answer.status_code == 400 and answer.json()["field"] == "offer_window_seconds"
    with schema_context(tenant_a.schema_name):
        cfg = IncidentSettings.load()
        assert cfg.trunk_labels == before and cfg.offer_window_seconds == 10
