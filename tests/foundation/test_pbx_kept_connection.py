"""The PBX API under the production server (siaga112.webserver) with its
database connection kept between requests, as in production: the event path sends
no `SELECT 1` before each event (siaga112.pbx_path), so a kept connection that died
(its backend killed, PostgreSQL restarted) must cost no event: it is run again on
a new connection, and answered, stored once.

`siaga112 runserver` (test_outage.py) opens a connection per request and never
shows this; one web worker with one thread keeps exactly one.
"""

from __future__ import annotations

import json
import uuid

import pytest

from tests.perf.bench_intake import WebServer, server_env

from .private_servers import free_port, http, private_dairi

HOST = "dairi.localhost"


@pytest.fixture
def kept_world(committed, tmp_path):
    with private_dairi(tmp_path, "kept connection") as world:
        env = server_env()
        env.update({"DATABASE_URL": world["pg"].url("siaga112"), "REDIS_URL": world["redis"].url,
                    "DB_CONN_MAX_AGE": "600", "WEB_CONCURRENCY": "1",
                    "WEB_THREADS": "1",
                    "SIAGA112_PBX_REQUESTS_PER_KEY": "100000/60", "LOG_LEVEL": "INFO"})
        server = WebServer("siaga112.wsgi:application", env, free_port(), tmp_path / "web.log")
        try:
            yield {**world, "server": server, "log": tmp_path / "web.log"}
        finally:
            server.stop()


def _ring(world, call_id: str) -> tuple[int, dict]:
    body = json.dumps({"event": "ringing", "call_id": call_id, "caller": "081234567891",
                       "trunk": "t1"}).encode()
    status, answer, _ = http("POST", f"http://127.0.0.1:{world['server'].port}/api/pbx/events/",
                             host=HOST, body=body, timeout=30,
                             headers={"Authorization": f"Bearer {world['key']}",
                                      "Content-Type": "application/json"})
    return status, json.loads(answer)


def _stored(world, prefix: str) -> dict[str, int]:
    rows = world["pg"].psql(
        f"SELECT c.external_id, count(e.id) FROM {world['schema']}.incidents_call c "
        f"LEFT JOIN {world['schema']}.incidents_pbxevent e ON e.call_id = c.id "
        f"WHERE c.external_id LIKE '{prefix}-%' GROUP BY c.external_id", "siaga112")
    return {k: int(v) for k, v in (line.split("|") for line in rows.split())}


def _kill_server_backends(world) -> int:
    return int(world["pg"].psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = 'siaga112' AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend'", "siaga112").strip())


def test_a_dead_kept_connection_costs_no_event(kept_world):
    world = kept_world
    prefix = uuid.uuid4().hex[:8]
    assert _ring(world, f"{prefix}-1")[0] == 200
    assert _kill_server_backends(world) >= 1
    status, answer = _ring(world, f"{prefix}-2")
    assert status == 200, answer
    assert answer["duplicate"] is False
    assert _ring(world, f"{prefix}-3")[0] == 200
    assert _stored(world, prefix) == {f"{prefix}-1": 1, f"{prefix}-2": 1, f"{prefix}-3": 1}
    # The second event found the connection dead and ran again on a new one.
    log = world["log"].read_text()
    assert log.count("pbx.connection_lost_retry") == 1, log[-3000:]
    # The same call id again is still one call and one event.
    status, answer = _ring(world, f"{prefix}-2")
    assert status == 200 and answer["duplicate"] is True
    assert _stored(world, prefix)[f"{prefix}-2"] == 1


def test_postgres_restarted_under_a_kept_connection(kept_world):
    world = kept_world
    prefix = uuid.uuid4().hex[:8]
    results: list[tuple[str, int]] = []

    def ring(n: int) -> None:
        results.append((f"{prefix}-{n}", _ring(world, f"{prefix}-{n}")[0]))

    for n in (1, 2, 3):
        ring(n)
    # Restarted between two events: the kept connection is dead, the event is not lost.
    world["pg"].stop("fast")
    world["pg"].start()
    for n in (4, 5):
        ring(n)
    # Down: "retry later", nothing written; back up: accepted again.
    world["pg"].stop("fast")
    status, answer = _ring(world, f"{prefix}-down")
    assert status == 503 and answer["status"] == 503
    world["pg"].start()
    for n in (6, 7):
        ring(n)
    assert [s for _, s in results] == [200] * 7, results
    stored = _stored(world, prefix)
    assert set(stored) == {call_id for call_id, _ in results}, stored
    assert all(n == 1 for n in stored.values()), stored
