"""Live consoles: conditional polling (304 from the Pemda's change counters), who may
get a 304, bounded and paginated lists, and ringing calls becoming missed."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from conftest import host_of
from incidents import live, selectors
from incidents.models import Agency, Call, CallState, IncidentSettings
from incidents.services import calls as call_services
from incidents.services import dispatching
from incidents.services import incidents as incident_services
from tests.incidents.conftest import pbx_post


def _ring(tenant, n=1, *, seconds_ago=0, prefix="live"):
    at = timezone.now() - timedelta(seconds=seconds_ago)
    ids = []
    with schema_context(tenant.schema_name):
        for i in range(n):
            external = f"{prefix}-{uuid.uuid4().hex[:12]}"
            call_services.pbx_event_record(
                event="ringing", external_id=external, caller_raw=f"+62812{i % 10**7:07d}",
                trunk="T", at=at, is_test=True)
            ids.append(external)
    return ids


def _get(client, path, etag=None):
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(path, HTTP_HX_REQUEST="true", **headers)


# --- 304 vs 200 ----------------------------------------------------------------------------


def test_same_counters_304_then_a_ringing_call_200_with_it(
    tenant_a, as_user, django_capture_on_commit_callbacks
):
    op = as_user(tenant_a, "operator1")
    first = _get(op, "/console/calls/")
    assert first.status_code == 200 and first["ETag"].startswith('W/"')
    again = _get(op, "/console/calls/", first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert "no-store" in again["Cache-Control"]
    # A ringing event from the PBX, committed: the next poll is answered in full.
    call_id = f"live-{uuid.uuid4().hex[:10]}"
    with django_capture_on_commit_callbacks(execute=True):
        response = pbx_post(op, "/api/pbx/events/", {"event": "ringing", "call_id": call_id,
                                                      "caller": "0812-7000-1111"})
    assert response.status_code in (200, 201), response.content
    after = _get(op, "/console/calls/", first["ETag"])
    assert after.status_code == 200
    assert call_id in after.content.decode()
    assert after["ETag"] != first["ETag"]
    assert _get(op, "/console/calls/", after["ETag"]).status_code == 304


def test_a_write_only_changes_the_kinds_it_touches_and_its_own_pemda(
    tenant_a, tenant_b, as_user, django_capture_on_commit_callbacks
):
    op_a, op_b = as_user(tenant_a, "operator1"), as_user(tenant_b, "operator1")
    calls_a = _get(op_a, "/console/calls/")["ETag"]
    incidents_a = _get(op_a, "/console/incidents/")["ETag"]
    calls_b = _get(op_b, "/console/calls/")["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        _ring(tenant_b)
    assert _get(op_a, "/console/calls/", calls_a).status_code == 304  # another Pemda
    assert _get(op_b, "/console/calls/", calls_b).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        with schema_context(tenant_a.schema_name):
            incident_services.incident_create(
                data=incident_services.IncidentInput(
                    category="fire", description="live", latitude=2.7, longitude=98.3,
                    address="x", idempotency_key=f"live-{uuid.uuid4().hex[:20]}"),
                actor=User.objects.get(username="operator1"), is_test=True, force=True)
    assert _get(op_a, "/console/calls/", calls_a).status_code == 304  # no call changed
    assert _get(op_a, "/console/incidents/", incidents_a).status_code == 200


def test_a_rolled_back_write_bumps_nothing_by_itself(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    tag = _get(op, "/console/calls/")["ETag"]
    # Inside the test's transaction nothing commits: the counters stay where they were.
    _ring(tenant_a)
    assert _get(op, "/console/calls/", tag).status_code == 304


# --- who may get a 304 --------------------------------------------------------------------


def test_roles_and_agencies_never_share_an_etag(tenant_a, as_user):
    damkar, psc = as_user(tenant_a, "damkar"), as_user(tenant_a, "psc119")
    tag_damkar = _get(damkar, "/opd/dispatches/")["ETag"]
    tag_psc = _get(psc, "/opd/dispatches/")["ETag"]
    assert tag_damkar != tag_psc
    assert _get(damkar, "/opd/dispatches/", tag_damkar).status_code == 304
    # Another agency's tag gets this agency's fragment in full, never a 304.
    assert _get(psc, "/opd/dispatches/", tag_damkar).status_code == 200
    op, sup = as_user(tenant_a, "operator1"), as_user(tenant_a, "supervisor")
    tag_op = _get(op, "/console/incidents/")["ETag"]
    tag_sup = _get(sup, "/console/incidents/")["ETag"]
    assert tag_op != tag_sup
    assert _get(sup, "/console/incidents/", tag_op).status_code == 200
    assert _get(sup, "/console/incidents/", tag_sup).status_code == 304


def test_an_agency_change_ends_the_304s_of_a_responder(tenant_a, as_user, tenant_user):
    damkar = as_user(tenant_a, "damkar")
    tag = _get(damkar, "/opd/dispatches/")["ETag"]
    with schema_context(tenant_a.schema_name):
        from incidents.models import AgencyMember
        member = AgencyMember.objects.get(user__username="damkar")
        member.agency = Agency.objects.exclude(pk=member.agency_id).first()
        member.save()
    # The remembered scope lasts until the end of the user's minute; once it is over
    # (dropped here), the full path runs and the new agency's tag differs.
    live.scope_drop(host_of(tenant_a), damkar.cookies["sessionid"].value)
    full = _get(damkar, "/opd/dispatches/", tag)
    assert full.status_code == 200 and full["ETag"] != tag


def test_the_early_304_reads_no_database(tenant_a, as_user, django_assert_num_queries):
    op = as_user(tenant_a, "operator1")
    tag = _get(op, "/console/calls/")["ETag"]
    with django_assert_num_queries(0):
        assert _get(op, "/console/calls/", tag).status_code == 304
    # Without the remembered scope (Redis lost it, its minute is over) the full path
    # answers the same 304 after the login and role checks.
    live.scope_drop(host_of(tenant_a), op.cookies["sessionid"].value)
    assert _get(op, "/console/calls/", tag).status_code == 304


def test_anonymous_and_signed_out_never_get_304(tenant_a, client_for, as_user):
    op = as_user(tenant_a, "operator1")
    tag = _get(op, "/console/calls/")["ETag"]
    assert _get(op, "/console/calls/", tag).status_code == 304
    anonymous = client_for(tenant_a)
    for path in ("/console/calls/", "/console/incidents/", "/supervisor/board/",
                 "/opd/dispatches/"):
        response = _get(anonymous, path, tag)
        assert response.status_code == 302 and "/login" in response["Location"], path
    # Signed out through the site; then the old cookie and tag replayed (a copied
    # cookie): the session is gone, so is its remembered scope, and no 304 comes back.
    session_key = op.cookies["sessionid"].value
    assert op.post("/accounts/logout/").status_code in (200, 302)
    replay = client_for(tenant_a)
    replay.cookies["sessionid"] = session_key
    response = _get(replay, "/console/calls/", tag)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert live.scope_load(host_of(tenant_a), session_key) is None


def test_wrong_role_never_gets_304(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    tag = _get(op, "/console/calls/")["ETag"]
    bupati = as_user(tenant_a, "bupati")
    assert _get(bupati, "/console/calls/", tag).status_code == 403
    assert _get(bupati, "/opd/dispatches/", tag).status_code == 403
    # A responder with the operator's tag on the operator's fragment: refused in full.
    assert _get(as_user(tenant_a, "damkar"), "/console/calls/", tag).status_code == 403


def test_without_redis_the_postgresql_counters_answer(
    tenant_a, as_user, settings, django_capture_on_commit_callbacks
):
    op = as_user(tenant_a, "operator1")
    original = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        first = _get(op, "/console/calls/")
        assert first.status_code == 200
        assert _get(op, "/console/calls/", first["ETag"]).status_code == 304
        with django_capture_on_commit_callbacks(execute=True):
            (call_id,) = _ring(tenant_a)
        after = _get(op, "/console/calls/", first["ETag"])
        assert after.status_code == 200 and call_id in after.content.decode()
        # The bump that only reached PostgreSQL waits to be replayed into Redis.
        assert (tenant_a.schema_name, live.CALLS) in live._unsent
    finally:
        live._down_until = 0.0
    settings.REDIS_URL = original
    with django_capture_on_commit_callbacks(execute=True):
        _ring(tenant_a)
    assert (tenant_a.schema_name, live.CALLS) not in live._unsent


# --- bounded lists --------------------------------------------------------------------------


def test_ringing_list_is_paginated(tenant_a, as_user):
    with schema_context(tenant_a.schema_name):
        before = selectors.ringing_calls().count()
    _ring(tenant_a, 60 - before if before < 60 else 0)
    op = as_user(tenant_a, "operator1")
    html = _get(op, "/console/calls/").content.decode()
    assert html.count('class="list-group-item list-group-item-danger ringing-call') == (
        selectors.RINGING_PAGE)
    total = max(before, 60)
    assert f"{total - selectors.RINGING_PAGE} more calls ringing" in html or (
        f"{total - selectors.RINGING_PAGE} panggilan lagi" in html)
    assert 'rel="next"' in html and "calls_page=2" in html
    last = _get(op, f"/console/calls/?page={(total + 24) // 25}").content.decode()
    assert last.count("ringing-call d-flex") == total - 25 * ((total - 1) // 25)
    # Past the end or nonsense: the last or the first page, never an error.
    assert _get(op, "/console/calls/?page=999").status_code == 200
    assert _get(op, "/console/calls/?page=abc").status_code == 200


def test_open_incident_lists_are_paginated(tenant_a, as_user):
    with schema_context(tenant_a.schema_name):
        op = User.objects.get(username="operator1")
        open_now = selectors.open_incidents().count()
        for i in range(max(0, selectors.INCIDENTS_PAGE + 5 - open_now)):
            incident_services.incident_create(
                data=incident_services.IncidentInput(
                    category="fire", description=f"page {i}", latitude=2.7, longitude=98.3,
                    address="x", idempotency_key=f"live-page-{uuid.uuid4().hex[:20]}"),
                actor=op, is_test=True, force=True)
        total = selectors.open_incidents().count()
    for username, path, marker in (("operator1", "/console/incidents/", "data-incident="),
                                    ("supervisor", "/supervisor/board/", "data-incident=")):
        html = _get(as_user(tenant_a, username), path).content.decode()
        assert html.count(marker) == selectors.INCIDENTS_PAGE, path
        assert f"{total}" in html and 'rel="next"' in html


def test_opd_dispatch_list_is_paginated(tenant_a, as_user):
    with schema_context(tenant_a.schema_name):
        op = User.objects.get(username="operator1")
        damkar = Agency.objects.get(code="damkar")
        active = selectors.active_dispatches_for(damkar).count()
        for i in range(max(0, selectors.DISPATCHES_PAGE + 3 - active)):
            inc = incident_services.incident_create(
                data=incident_services.IncidentInput(
                    category="fire", description=f"d {i}", latitude=2.7, longitude=98.3,
                    address="x", idempotency_key=f"live-d-{uuid.uuid4().hex[:20]}"),
                actor=op, is_test=True, force=True).incident
            dispatching.dispatch_create(incident_id=inc.pk, agency_ids=[damkar.pk], actor=op)
    html = _get(as_user(tenant_a, "damkar"), "/opd/dispatches/").content.decode()
    assert html.count("card dispatch-card") == selectors.DISPATCHES_PAGE
    assert 'rel="next"' in html


def test_a_flood_of_ringing_calls_keeps_the_console_bounded(tenant_b, as_user):
    """10,000 calls ringing at once in one Pemda: what the operator's screen loads stays
    small. The rows are written in bulk (one PBX event each through the service takes
    ~100 s on this machine); the benchmark sends the same flood through the PBX API and
    counts every record (tests/perf/bench_consoles.py)."""
    n = 10_000
    now = timezone.now()
    with schema_context(tenant_b.schema_name):
        before = Call.objects.count()
        Call.objects.bulk_create(
            [Call(external_id=f"flood-{i}-{uuid.uuid4().hex[:8]}", caller=f"+62812{i:07d}",
                  trunk="T", ringing_at=now - timedelta(milliseconds=6 * i), is_test=True)
             for i in range(n)], batch_size=2000)
        assert Call.objects.count() == before + n
        assert selectors.ringing_calls().count() >= n
    op = as_user(tenant_b, "operator1")
    for path in ("/console/", "/console/calls/", "/console/incidents/", "/console/map.json"):
        response = op.get(path)
        assert response.status_code == 200
        assert len(response.content) < 200_000, (path, len(response.content))
    calls = op.get("/console/calls/").content.decode()
    assert calls.count("ringing-call d-flex") == selectors.RINGING_PAGE
    assert re.search(r"10[.,]?0\d\d", calls)  # the total is shown
    board = as_user(tenant_b, "supervisor").get("/supervisor/board/")
    assert len(board.content) < 200_000


# --- missed calls ----------------------------------------------------------------------------


def test_calls_ringing_past_the_pemda_limit_become_missed(tenant_a):
    (old,) = _ring(tenant_a, seconds_ago=130)
    (young,) = _ring(tenant_a, seconds_ago=10)
    with schema_context(tenant_a.schema_name):
        assert IncidentSettings.load().ring_timeout_seconds == 120
        assert call_services.calls_mark_missed() >= 1
        assert Call.objects.get(external_id=old).state == CallState.MISSED
        assert Call.objects.get(external_id=young).state == CallState.RINGING
        assert Call.objects.get(external_id=old).ended_at is None
        assert not selectors.ringing_calls().filter(external_id=old).exists()
        # A longer limit in this Pemda's settings: a call at 130 s is still ringing.
        IncidentSettings.objects.filter(pk=1).update(ring_timeout_seconds=300)
        (later,) = _ring(tenant_a, seconds_ago=130)
        call_services.calls_mark_missed()
        assert Call.objects.get(external_id=later).state == CallState.RINGING


def test_missed_calls_are_counted_by_the_kpis(tenant_a):
    from reporting.kpis import call_summary
    from reporting.periods import Period

    with schema_context(tenant_a.schema_name):
        Call.objects.filter(external_id__startswith="kpi-missed").delete()
        at = timezone.now() - timedelta(seconds=300)
        for i in range(3):
            Call.objects.create(external_id=f"kpi-missed-{i}", caller=f"+6281299900{i}",
                                ringing_at=at, is_test=False)
        today = timezone.localdate()
        period = Period(start=today - timedelta(days=1), end=today + timedelta(days=1))
        before = call_summary(period)["missed"]
        assert call_services.calls_mark_missed() >= 3
        assert call_summary(period)["missed"] == before + 3


def test_a_call_answered_after_the_timeout_counts_as_answered_not_missed(tenant_a):
    from reporting.kpis import call_summary
    from reporting.periods import Period

    with schema_context(tenant_a.schema_name):
        at = timezone.now() - timedelta(seconds=300)
        Call.objects.create(external_id="late-answer-1", caller="+62812999111",
                            ringing_at=at, is_test=False)
        today = timezone.localdate()
        period = Period(start=today - timedelta(days=1), end=today + timedelta(days=1))
        before = call_summary(period)
        call_services.calls_mark_missed()
        assert Call.objects.get(external_id="late-answer-1").state == CallState.MISSED
        call_services.pbx_event_record(event="answered", external_id="late-answer-1",
                                       at=at + timedelta(seconds=200))
        call = Call.objects.get(external_id="late-answer-1")
        assert call.state == CallState.ANSWERED and call.answered_at is not None
        after = call_summary(period)
        assert after["answered"] == before["answered"] + 1
        assert after["missed"] == before["missed"]


@pytest.mark.worker
def test_missed_call_beat_fans_out_to_tenants_on_a_real_worker(committed):
    from siaga112.celery import app

    from incidents.beat import SCHEDULE
    from incidents.tasks import mark_missed_all
    from tenants.models import Tenant

    assert SCHEDULE["incidents-mark-missed"]["task"] == "incidents.mark_missed_all"
    tenant = Tenant.objects.get(region__slug="dairi")
    external = f"beat-missed-{uuid.uuid4().hex[:10]}"
    with schema_context(tenant.schema_name):
        call_services.pbx_event_record(
            event="ringing", external_id=external, caller_raw="+6281277700011", trunk="T",
            at=timezone.now() - timedelta(seconds=400), is_test=True)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            mark_missed_all.delay()
            deadline = time.monotonic() + 15
            state = None
            while time.monotonic() < deadline:
                with schema_context(tenant.schema_name):
                    state = Call.objects.get(external_id=external).state
                if state == CallState.MISSED:
                    break
                time.sleep(0.2)
        assert state == CallState.MISSED
    finally:
        with schema_context(tenant.schema_name):
            Call.objects.filter(external_id=external).delete()


@pytest.mark.browser
def test_chromium_console_polls_with_304_and_still_updates(browser, live_server_url, committed):
    """Headless Chromium: idle polls are answered 304 (nothing swapped), a ringing call
    arrives within 2 s, and a running time keeps ticking between answers."""
    import requests
    from siaga112.demo import DEMO_PASSWORD

    from incidents.demo import demo_pbx_key
    from tenants.models import Tenant

    tenant = Tenant.objects.get(region__slug="dairi")
    port = live_server_url.rsplit(":", 1)[1]
    base = f"http://dairi.localhost:{port}"
    call_id = f"chromium-{uuid.uuid4().hex[:8]}"
    page = browser.new_page()
    statuses: list[int] = []
    page.on("response", lambda r: statuses.append(r.status) if "/console/calls/" in r.url
            else None)
    try:
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "operator2")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#no-ringing, .ringing-call")
        page.wait_for_timeout(3500)
        assert 304 in statuses, statuses
        assert page.query_selector("#ringing-calls") is not None  # a 304 swapped nothing
        sent = time.monotonic()
        response = requests.post(
            f"http://127.0.0.1:{port}/api/pbx/events/", timeout=10,
            json={"event": "ringing", "call_id": call_id, "caller": "0812-7555-0101",
                  "trunk": "T"},
            headers={"Host": f"dairi.localhost:{port}",
                     "Authorization": f"Bearer {demo_pbx_key('dairi')}"})
        assert response.status_code == 200, response.text
        page.wait_for_selector(f".ringing-call[data-call='{call_id}']", timeout=2000)
        assert time.monotonic() - sent < 2.5
    finally:
        page.close()
        with schema_context(tenant.schema_name):
            Call.objects.filter(external_id=call_id).delete()


def test_the_map_points_are_conditional_too(tenant_a, as_user):
    op = as_user(tenant_a, "operator1")
    first = op.get("/console/map.json", HTTP_ACCEPT="application/json")
    assert first.status_code == 200 and "incidents" in first.json()
    again = op.get("/console/map.json", HTTP_ACCEPT="application/json",
                   HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    other = as_user(tenant_a, "supervisor").get(
        "/console/map.json", HTTP_ACCEPT="application/json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert other.status_code == 200
