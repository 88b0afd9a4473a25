"""The change feeds under concurrent writers, from outside: every change once,
in commit order, including the classic trap (a transaction that took the lower
id commits after one with a higher id). Rows are committed (other connections
must see them) and removed afterwards."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from incidents.models import Incident, TimelineEntry
from incidents.services import incidents as incident_services
from integration.models import ApiToken, ProvinceIncidentEvent
from tenants.models import Tenant
from tests.api.conftest import gql, host_of, raw_token
from tests.cleanup import purging

FEED = """query($after: String) { incidentEvents(after: $after, first: 100) {
  events { cursor kind incidentReference data } endCursor hasMore } }"""
PROVINCE = """query($after: String, $province: String) {
  provinceIncidentEvents(after: $after, first: 100, province: $province) {
  events { cursor kind reference pemda provinceCode category } endCursor hasMore } }"""


def _client(tenant):
    from django.test import Client

    return Client(HTTP_HOST=host_of(tenant) if tenant is not None else "localhost")


def _drain(client, token, query, field, after, **variables) -> tuple[list[dict], str | None]:
    events: list[dict] = []
    while True:
        body = gql(client, query, {"after": after, **variables}, token=token).json()
        assert "errors" not in body, body
        page = body["data"][field]
        events += page["events"]
        after = page["endCursor"]
        if not page["hasMore"]:
            return events, after


def _follow_until(client, token, query, field, after, done, **variables):
    """Follow the feed (as a client would: poll from the last cursor) until `done`."""
    seen: list[dict] = []
    deadline = time.monotonic() + 60  # other sessions' open transactions hold the horizon
    while time.monotonic() < deadline:
        events, after = _drain(client, token, query, field, after, **variables)
        seen += events
        if done(seen):
            return seen, after
        time.sleep(0.2)
    raise AssertionError(f"feed did not deliver: {seen}")


def _incident(tenant, key) -> Incident:
    with schema_context(tenant.schema_name):
        return incident_services.incident_create(
            data=incident_services.IncidentInput(
                category="fire", description="feed", latitude=-7.45, longitude=112.71,
                address="feed", idempotency_key=key),
            actor=None, is_test=False, force=True).incident


@pytest.fixture
def cleanup(committed):
    made: dict[str, list[int]] = {}
    tokens: list[int] = []
    yield made, tokens
    for schema, ids in made.items():
        with schema_context(schema), purging():
            Incident.objects.filter(pk__in=ids).delete()
        ProvinceIncidentEvent.objects.filter(schema_name=schema, incident_id__in=ids).delete()
    ApiToken.objects.filter(pk__in=tokens).delete()


def _live_jatim() -> list[Any]:
    tenants = list(Tenant.objects.filter(status=Tenant.Status.LIVE, region__parent_id="35")
                   .order_by("schema_name")[:2])
    assert len(tenants) == 2, "the demo world has live Pemda in Jawa Timur"
    return tenants


def test_lower_id_committing_last_is_not_skipped(cleanup):
    made, tokens = cleanup
    sidoarjo, _other = _live_jatim()
    token, raw = raw_token(scope="tenant", schema_name=sidoarjo.schema_name)
    ptoken, praw = raw_token(scope="province", province_code="35")
    tokens += [token.pk, ptoken.pk]
    a = _incident(sidoarjo, "feed-a")
    b = _incident(sidoarjo, "feed-b")
    made[sidoarjo.schema_name] = [a.pk, b.pk]
    client, public = _client(sidoarjo), _client(None)
    # Start at the end of what has committed so far (includes a's and b's creation).
    _seen, start = _follow_until(client, raw, FEED, "incidentEvents", None,
                                 lambda s: {a.reference, b.reference} <= {
                                     e["incidentReference"] for e in s})
    _pseen, pstart = _follow_until(public, praw, PROVINCE, "provinceIncidentEvents", None,
                                   lambda s: b.reference in {e["reference"] for e in s})
    a_written, a_committed = threading.Event(), threading.Event()
    b_written, b_committed = threading.Event(), threading.Event()
    release_a = threading.Event()
    failures: list[BaseException] = []

    def writer(incident: Incident, text: str, wait_before: threading.Event | None,
               hold_until: threading.Event | None, written: threading.Event,
               committed: threading.Event) -> None:
        try:
            if wait_before is not None:
                wait_before.wait(30)
            with schema_context(sidoarjo.schema_name), transaction.atomic():
                incident_services.incident_note_add(incident_id=incident.pk, text=text,
                                                    actor=None)
                written.set()
                if hold_until is not None:
                    hold_until.wait(30)  # hold the transaction open: it commits last
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
        finally:
            written.set()
            committed.set()
            connection.close()

    # a writes first (lower id, lower txid) and commits after b.
    slow = threading.Thread(target=writer, args=(a, "first written, last committed", None,
                                                 release_a, a_written, a_committed))
    fast = threading.Thread(target=writer, args=(b, "second written, first committed",
                                                 a_written, None, b_written, b_committed))
    slow.start()
    fast.start()
    fast.join(30)
    assert b_committed.is_set() and not a_committed.is_set() and not failures, failures
    # b has committed, a has not: a follower must not be moved past a's place.
    early, cursor = _drain(client, raw, FEED, "incidentEvents", start)
    assert [e for e in early if e["kind"] == "note"] == []
    assert not a_committed.is_set()
    release_a.set()
    slow.join(30)
    assert not failures, failures
    notes, _end = _follow_until(client, raw, FEED, "incidentEvents", cursor,
                                lambda s: len([e for e in s if e["kind"] == "note"]) >= 2)
    notes = [e for e in notes if e["kind"] == "note"]
    with schema_context(sidoarjo.schema_name):  # the trap was set: a has the lower id
        ids = dict(TimelineEntry.objects.filter(kind="note", incident__in=[a, b])
                   .values_list("incident_id", "id"))
    assert ids[a.pk] < ids[b.pk]
    assert [e["incidentReference"] for e in notes] == [a.reference, b.reference]
    assert len({e["cursor"] for e in notes}) == 2
    # The province sees the same two changes, once each, in the same order.
    pnotes, _pend = _follow_until(public, praw, PROVINCE, "provinceIncidentEvents", pstart,
                                  lambda s: len([e for e in s if e["kind"] == "note"]) >= 2)
    assert [e["reference"] for e in pnotes if e["kind"] == "note"] == [a.reference, b.reference]
    assert {e["provinceCode"] for e in pnotes} == {"35"}


def test_concurrent_writers_on_two_pemda_are_seen_exactly_once(cleanup):
    made, tokens = cleanup
    first, second = _live_jatim()
    ptoken, praw = raw_token(scope="province", province_code="35")
    sumut, sumut_raw = raw_token(scope="province", province_code="12")
    tokens += [ptoken.pk, sumut.pk]
    public = _client(None)
    _seen, start = _drain(public, praw, PROVINCE, "provinceIncidentEvents", None)
    _s, sumut_start = _drain(public, sumut_raw, PROVINCE, "provinceIncidentEvents", None)
    references: dict[str, list[str]] = {first.schema_name: [], second.schema_name: []}
    made.update({first.schema_name: [], second.schema_name: []})
    failures: list[BaseException] = []

    def write(tenant: Tenant, n: int) -> None:
        try:
            for i in range(n):
                incident = _incident(tenant, f"feed-{tenant.schema_name}-{i}")
                made[tenant.schema_name].append(incident.pk)
                references[tenant.schema_name].append(incident.reference)
                with schema_context(tenant.schema_name):
                    incident_services.incident_note_add(incident_id=incident.pk, text="n",
                                                        actor=None)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(t, 8)) for t in (first, second)]
    for thread in threads:
        thread.start()
    seen: list[dict] = []
    after = start
    while any(t.is_alive() for t in threads):  # follow while they write
        events, after = _drain(public, praw, PROVINCE, "provinceIncidentEvents", after)
        seen += events
    for thread in threads:
        thread.join()
    assert not failures, failures
    names = {first.schema_name: first.name, second.schema_name: second.name}
    # References are per Pemda: a change is known by (Pemda, reference).
    wanted = {(names[schema], r) for schema, refs in references.items() for r in refs}
    rest, _end = _follow_until(public, praw, PROVINCE, "provinceIncidentEvents", after,
                               lambda s: wanted <= {(e["pemda"], e["reference"])
                                                    for e in seen + s})
    seen += rest
    mine = [e for e in seen if (e["pemda"], e["reference"]) in wanted]
    assert len(mine) == 2 * len(wanted)  # created + note, each exactly once
    assert len({e["cursor"] for e in mine}) == len(mine)
    assert {e["pemda"] for e in mine} == {first.name, second.name}
    # Sumatera Utara's token sees none of it; asking for Jawa Timur is refused.
    theirs, _ = _drain(public, sumut_raw, PROVINCE, "provinceIncidentEvents", sumut_start)
    assert not {(e["pemda"], e["reference"]) for e in theirs} & wanted
    refused = gql(public, PROVINCE, {"province": "35"}, token=sumut_raw).json()
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"


def test_province_feed_access(public_client, make_token, tenant_a, session_client):
    from accounts.models import User

    anonymous = gql(public_client, PROVINCE).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "forbidden"
    tenant_token = make_token(scope="tenant", schema_name=tenant_a.schema_name)[1]
    assert gql(public_client, PROVINCE, token=tenant_token).status_code == 401
    coordinator = User.objects.get(username="koordinator.dairi")
    refused = gql(session_client(None, coordinator), PROVINCE).json()
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"
    national = make_token(scope="national")[1]
    ok = gql(public_client, PROVINCE, {"province": "12"}, token=national).json()
    assert "errors" not in ok
    assert {e["provinceCode"] for e in ok["data"]["provinceIncidentEvents"]["events"]} <= {"12"}


def test_tenant_feed_follows_the_roles(tenant_b, host_client, session_client, tenant_user,
                                       make_token):
    """On the committed demo data of Sidoarjo: anonymous and the Pemda admin get
    nothing, a responder only its own agency's steps, a token everything."""
    anonymous = gql(host_client(tenant_b), FEED).json()["data"]["incidentEvents"]
    assert anonymous["events"] == [] and anonymous["hasMore"] is False
    admin = gql(session_client(tenant_b, tenant_user(tenant_b, "admin")), FEED).json()
    assert admin["data"]["incidentEvents"]["events"] == []
    raw = make_token(scope="tenant", schema_name=tenant_b.schema_name)[1]
    everything = gql(host_client(tenant_b), FEED.replace("data }", "data agencyCode }"),
                     token=raw).json()["data"]["incidentEvents"]["events"]
    assert {e["agencyCode"] for e in everything} - {None} >= {"damkar"}
    assert len({e["agencyCode"] for e in everything} - {None}) >= 2
    damkar = gql(session_client(tenant_b, tenant_user(tenant_b, "damkar")),
                 FEED.replace("data }", "data agencyCode }")).json()
    events = damkar["data"]["incidentEvents"]["events"]
    assert events and {e["agencyCode"] for e in events} <= {None, "damkar"}


def test_concurrent_retries_with_one_idempotency_key_make_one_incident(cleanup):
    """Two copies of one request racing (a client retrying on a timeout): the
    per-key lock lets one run, the other gets its stored answer."""
    from integration.models import IdempotencyRecord

    made, tokens = cleanup
    sidoarjo, _other = _live_jatim()
    token, raw = raw_token(scope="tenant", access="read_write", schema_name=sidoarjo.schema_name)
    tokens.append(token.pk)
    query = """mutation($input: IncidentInput!) { createIncident(input: $input) {
      created incident { id reference } errors { code } } }"""
    variables = {"input": {"category": "fire", "description": "sensor suhu", "latitude": -7.44,
                           "longitude": 112.7, "address": "Gudang", "force": True}}
    answers: list[Any] = []
    start = threading.Barrier(2)

    def post() -> None:
        try:
            start.wait(10)
            answers.append(gql(_client(sidoarjo), query, variables, token=raw,
                               Idempotency_Key="race-key-1"))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert [a.status_code for a in answers] == [200, 200]
        bodies = [a.json() for a in answers]
        assert bodies[0] == bodies[1]
        incident_id = int(bodies[0]["data"]["createIncident"]["incident"]["id"])
        made[sidoarjo.schema_name] = [incident_id]
        with schema_context(sidoarjo.schema_name):
            assert Incident.objects.filter(description="sensor suhu").count() == 1
    finally:
        IdempotencyRecord.objects.filter(schema_name=sidoarjo.schema_name,
                                         key="race-key-1").delete()
        with schema_context(sidoarjo.schema_name):
            made[sidoarjo.schema_name] = list(
                Incident.objects.filter(description="sensor suhu").values_list("pk", flat=True))
