"""PostgreSQL restarted and Redis stopped while requests flow, against the real
server process: API clients (the PBX, GraphQL) get 503 JSON with Retry-After,
browsers a 503 page; nothing is half-written; the platform recovers by itself.

The PostgreSQL is the test's own (a copy of the public and Dairi schemas of the
test database), stopped and started by the test; the machine's is never touched.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from .private_servers import PlatformServer, http, private_dairi

HOST = "dairi.localhost"


@pytest.fixture
def outage_world(committed, tmp_path):
    """Private PostgreSQL with a copy of public + Dairi, a PBX key in it, a private
    Redis, and the platform serving on both."""
    with private_dairi(tmp_path, "outage test") as world:
        server = PlatformServer({"DATABASE_URL": world["pg"].url("siaga112"),
                                 "REDIS_URL": world["redis"].url,
                                 # as in production: connections kept between requests
                                 "DB_CONN_MAX_AGE": "60"}, tmp_path)
        try:
            server.start(wait_host=HOST)
            yield {**world, "server": server}
        finally:
            server.stop()


def _ring(world, call_id: str) -> tuple[int, bytes, dict[str, str]]:
    body = json.dumps({"event": "ringing", "call_id": call_id, "caller": "081234567890",
                       "trunk": "t1"}).encode()
    return http("POST", f"{world['server'].base}/api/pbx/events/", host=HOST, body=body,
                headers={"Authorization": f"Bearer {world['key']}",
                         "Content-Type": "application/json"}, timeout=30)


class Load:
    """PBX ringing events, one after another, each with its own call id."""

    def __init__(self, world) -> None:
        self.world = world
        self.results: list[tuple[str, int, bytes, dict[str, str]]] = []
        self.running = True
        self.prefix = uuid.uuid4().hex[:8]
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        n = 0
        while self.running:
            n += 1
            call_id = f"{self.prefix}-{n}"
            try:
                status, body, headers = _ring(self.world, call_id)
            except OSError as exc:
                status, body, headers = -1, str(exc).encode(), {}
            self.results.append((call_id, status, body, headers))
            time.sleep(0.02)

    def statuses(self) -> list[int]:
        return [r[1] for r in self.results]

    def wait_for(self, predicate, seconds: float = 30.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate(self.statuses()):
                return True
            time.sleep(0.1)
        return False


def test_postgres_restart_under_load_is_503_json_then_recovery(outage_world):
    world = outage_world
    load = Load(world)
    load.thread.start()
    try:
        assert load.wait_for(lambda s: s.count(200) >= 5), load.statuses()
        world["pg"].stop("fast")
        assert load.wait_for(lambda s: s.count(503) >= 3), load.statuses()[-10:]

        # While it is down: a browser gets the page, GraphQL and JSON clients JSON. An
        # operator's browser mid-shift (a session cookie: its session is in the database);
        # the bare login form needs no database since the host's tenant is cached.
        status, body, headers = http("GET", f"{world['server'].base}/console/", host=HOST,
                                     headers={"Accept": "text/html",
                                              "Cookie": "sessionid=" + "s" * 32})
        assert status == 503 and int(headers["Retry-After"]) > 0
        page = body.decode()
        assert "Sistem call center sementara tidak tersedia" in page and "Traceback" not in page
        status, body, headers = http("POST", f"{world['server'].base}/graphql/", host=HOST,
                                     body=b'{"query": "{ __typename }"}',
                                     headers={"Content-Type": "application/json",
                                              "Cookie": "sessionid=" + "s" * 32})
        assert status == 503 and int(headers["Retry-After"]) > 0
        assert json.loads(body)["status"] == 503

        world["pg"].start()
        down_until = len(load.results)
        assert load.wait_for(
            lambda s: len(s) > down_until + 5 and s[-5:] == [200] * 5, seconds=30
        ), load.statuses()[down_until:]
    finally:
        load.running = False
        load.thread.join(timeout=40)

    statuses = load.statuses()
    # Only two answers ever: accepted, or "briefly unavailable, retry" - never a 500 page.
    assert set(statuses) <= {200, 503}, sorted(set(statuses))
    for _, status, body, headers in load.results:
        if status == 503:
            assert int(headers["Retry-After"]) > 0
            assert headers["Content-Type"] == "application/json"
            assert json.loads(body)["status"] == 503

    # Nothing half-written: every accepted call is there with its ringing event, and no
    # call exists without it (Call and PbxEvent are written in one transaction).
    accepted = {call_id for call_id, status, _, _ in load.results if status == 200}
    rows = world["pg"].psql(
        f"SELECT c.external_id, count(e.id) FROM {world['schema']}.incidents_call c "
        f"LEFT JOIN {world['schema']}.incidents_pbxevent e ON e.call_id = c.id "
        f"WHERE c.external_id LIKE '{load.prefix}-%' GROUP BY c.external_id", "siaga112")
    stored = dict(line.split("|") for line in rows.split())
    assert accepted <= set(stored), accepted - set(stored)
    assert all(int(n) == 1 for n in stored.values()), stored


def test_redis_stopped_under_load_keeps_intake_working(outage_world):
    """The PBX intake does not need Redis (notifications wait in the outbox):
    with Redis stopped the events are still accepted, never a 500."""
    world = outage_world
    load = Load(world)
    load.thread.start()
    try:
        assert load.wait_for(lambda s: s.count(200) >= 3), load.statuses()
        world["redis"].stop()
        before = len(load.results)
        assert load.wait_for(lambda s: len(s) >= before + 5, seconds=60), load.statuses()
        world["redis"].start()
        after = len(load.results)
        assert load.wait_for(lambda s: len(s) >= after + 3, seconds=30)
    finally:
        load.running = False
        load.thread.join(timeout=40)
    assert set(load.statuses()) == {200}, load.statuses()
