"""Celery workers as real processes, killed and cut off:

- a worker SIGKILLed in the middle of a notification delivery: a new worker sends it
  again and the receiver, deduplicating by delivery id as the contract says, sees its
  effect once; nothing is sent a third time when the broker hands out the dead
  worker's unacknowledged task again (acks_late, visibility timeout);
- Redis stopped while a call is taken and dispatched, with the worker started before
  the outage: the intake over HTTP succeeds, and once Redis is back the same worker
  (reconnected by itself) delivers the notifications exactly once.

Private redis-server (tests/outbox/conftest.py's OwnRedis) and a webhook receiver in
this process; the workers are `celery worker` child processes on the test database.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django_tenants.utils import schema_context

from outbox.models import OutboxMessage
from outbox.signing import verify
from tests.cleanup import purging
from tests.foundation.private_servers import source_url_of
from tests.outbox.conftest import OwnRedis, point_broker_at

ROOT = Path(__file__).resolve().parents[2]
SECRET = "worker-failure-secret"
STALE_SECONDS = 3
VISIBILITY_SECONDS = 6

pytestmark = pytest.mark.worker


class Receiver:
    """A webhook endpoint that can hold a request (the sender dies meanwhile)."""

    def __init__(self) -> None:
        self.hits: list[dict[str, Any]] = []
        self.hold_next = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hit = {"key": self.headers.get("X-Siaga112-Delivery"),
                       "signed": verify(body, SECRET, self.headers.get("X-Siaga112-Signature")),
                       "answered": False}
                with receiver.lock:
                    receiver.hits.append(hit)
                    hold = receiver.hold_next.is_set()
                    receiver.hold_next.clear()
                if hold:
                    receiver.release.wait(30)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    hit["answered"] = not hold
                except OSError:
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def effects(self) -> set[str]:
        """What a receiver that deduplicates by X-Siaga112-Delivery acts on."""
        with self.lock:
            return {h["key"] for h in self.hits if h["signed"]}

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """`celery worker` as a child process of its own session, on the test database."""

    def __init__(self, broker_url: str, log: Path, mail_dir: Path) -> None:
        db = settings.DATABASES["default"]
        self.name = f"w{uuid.uuid4().hex[:8]}@resil"
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        env.update({
            "DJANGO_SETTINGS_MODULE": "siaga112.settings_test",
            "DATABASE_URL": source_url_of(db),
            "REDIS_URL": broker_url,
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(mail_dir),
            "SIAGA112_OUTBOX_STALE_SENDING_SECONDS": str(STALE_SECONDS),
            "SIAGA112_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        })
        self.log = log.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "siaga112.celery", "worker", "--pool=solo",
             "-n", self.name, "--loglevel=INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 60) -> None:
        from siaga112.celery import app

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the worker exited at start"
            replies = app.control.ping(destination=[self.name], timeout=0.5) or []
            if any(self.name in reply for reply in replies):
                return
        raise AssertionError("the worker did not answer a ping")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(predicate: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def world(committed, tmp_path: Path, settings) -> Iterator[dict[str, Any]]:
    from siaga112.celery import app

    from tenants.models import Tenant

    settings.OUTBOX = {"STALE_SENDING_SECONDS": STALE_SECONDS, "SWEEP_GRACE_SECONDS": 0}
    redis_server = OwnRedis(tmp_path)
    redis_server.start()
    old_url = app.conf.broker_url
    point_broker_at(redis_server.url)
    receiver = Receiver()
    workers: list[Worker] = []
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()

    def start_worker() -> Worker:
        worker = Worker(redis_server.url, tmp_path / "worker.log", mail_dir)
        workers.append(worker)
        worker.wait_ready()
        return worker

    schema = Tenant.objects.get(region__slug="dairi").schema_name
    with schema_context(schema):
        before = set(OutboxMessage.objects.values_list("pk", flat=True))
    try:
        yield {"redis": redis_server, "receiver": receiver, "start_worker": start_worker,
               "schema": schema, "mail": mail_dir, "log": tmp_path / "worker.log"}
    finally:
        for worker in workers:
            worker.stop()
        receiver.close()
        point_broker_at(old_url)
        if redis_server.proc is not None:
            redis_server.stop()
        with schema_context(schema):
            OutboxMessage.objects.exclude(pk__in=before).delete()


def _received(log: Path) -> int:
    """outbox.deliver tasks the workers took from the broker (their INFO log)."""
    return sum("outbox.deliver[" in line and "received" in line.lower()
               for line in log.read_text(errors="replace").splitlines())


def _message(schema: str, pk: int) -> OutboxMessage:
    with schema_context(schema):
        return OutboxMessage.objects.get(pk=pk)


def test_a_worker_killed_mid_delivery_the_effect_happens_once(world: dict[str, Any]) -> None:
    from outbox.services import outbox_enqueue
    from outbox.tasks import outbox_sweep

    schema, receiver = world["schema"], world["receiver"]
    first = world["start_worker"]()
    receiver.hold_next.set()  # the first POST hangs: the worker is mid-send
    key = f"{schema}:dispatch:kill-{uuid.uuid4().hex[:8]}:webhook"
    with schema_context(schema), transaction.atomic():
        message = outbox_enqueue(channel="webhook", receiver=receiver.url,
                                 subject="incident.dispatched", payload={"incident": 1},
                                 dedupe_key=key, secret=SECRET)
    assert wait_for(lambda: len(receiver.hits) == 1), "the worker never sent"
    first.kill()  # SIGKILL to the whole worker, mid-request
    receiver.release.set()
    claimed = _message(schema, message.pk)
    assert (claimed.status, claimed.attempts) == ("sending", 1)

    world["start_worker"]()
    # Two ways back, racing, both real: beat's sweep (every 20 s; run here) re-queues
    # the stale claim, and the broker hands out the dead worker's unacknowledged task
    # again after the visibility timeout (acks_late). Whichever comes first sends; the
    # claim turns the other away.
    time.sleep(STALE_SECONDS + 0.5)
    outbox_sweep()
    assert wait_for(lambda: _message(schema, message.pk).status == "sent"), (
        world["log"].read_text()[-3000:])
    log_file = world["log"]
    first_task = re.search(r"Task outbox\.deliver\[([0-9a-f-]+)\] received",
                           log_file.read_text(errors="replace")).group(1)
    assert wait_for(lambda: log_file.read_text(errors="replace").count(
        f"outbox.deliver[{first_task}] received") == 2, VISIBILITY_SECONDS + 25), (
        "the killed worker's task was not handed out again")
    assert wait_for(lambda: f"outbox.deliver[{first_task}] succeeded" in log_file.read_text(
        errors="replace"))
    results = re.findall(r"outbox\.deliver\[[0-9a-f-]+\] succeeded in [0-9.]+s: '(\w+)'",
                         log_file.read_text(errors="replace"))
    # One 'sent'; the loser of the race (if the sweep queued one at all) 'skipped'.
    assert results.count("sent") == 1 and set(results) <= {"sent", "skipped"}, results
    outbox_sweep()
    time.sleep(1.5)
    done = _message(schema, message.pk)
    assert (done.status, done.attempts) == ("sent", 2)
    assert [h["key"] for h in receiver.hits] == [key, key]  # the cut-off try, the retry
    assert receiver.effects() == {key}
    assert [h["answered"] for h in receiver.hits] == [False, True]


def test_redis_down_during_intake_notifications_go_out_once_when_it_is_back(
    world: dict[str, Any]
) -> None:
    from incidents.demo import demo_pbx_key
    from incidents.models import Agency, Dispatch
    from outbox.tasks import outbox_sweep
    from tenants.models import Tenant

    schema, receiver = world["schema"], world["receiver"]
    redis_server = world["redis"]
    dairi = Tenant.objects.get(schema_name=schema)
    host = dairi.domains.get(is_primary=True).domain
    worker = world["start_worker"]()  # before the outage
    with schema_context(schema):
        damkar = Agency.objects.get(code="damkar")
        saved = (damkar.email, damkar.webhook_url, damkar.webhook_secret)
        Agency.objects.filter(pk=damkar.pk).update(
            email="damkar@dairikab.go.id", webhook_url=receiver.url, webhook_secret=SECRET)
        from accounts.models import User

        operator = User.objects.get(username="operator1")
    try:
        redis_server.stop()
        # Intake: the PBX rings, the operator answers, records and dispatches, over HTTP.
        pbx = Client(HTTP_HOST=host)
        call_id = f"outage-{uuid.uuid4().hex[:8]}"
        r = pbx.post("/api/pbx/events/", json.dumps({"event": "ringing", "call_id": call_id,
                                                     "caller": "0812 6000 3344"}),
                     content_type="application/json",
                     HTTP_AUTHORIZATION=f"Bearer {demo_pbx_key('dairi')}")
        assert r.status_code == 200, r.content
        op = Client(HTTP_HOST=host)
        with schema_context(schema):
            op.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
            from incidents.models import Call

            call = Call.objects.get(external_id=call_id)
        assert op.post(f"/calls/{call.pk}/answer/").status_code == 302
        r = op.post("/incidents/", {"category": "fire", "latitude": "2.7301",
                                    "longitude": "98.3001", "address": "Jl. Padam 1",
                                    "description": "Gudang terbakar", "call": call.pk,
                                    "idempotency_key": uuid.uuid4().hex})
        assert r.status_code == 302, r.content[:500]
        incident_id = int(re.search(r"/incidents/(\d+)/", r["Location"]).group(1))
        started = time.monotonic()
        r = op.post(f"/incidents/{incident_id}/dispatch/", {"agency": damkar.pk})
        assert r.status_code == 302, r.content[:500]
        assert time.monotonic() - started < 5, "the dispatch waited on the dead broker"
        with schema_context(schema):
            dispatch = Dispatch.objects.get(incident_id=incident_id, agency=damkar)
            keys = {f"{schema}:dispatch:{dispatch.pk}:email",
                    f"{schema}:dispatch:{dispatch.pk}:webhook"}
            rows = list(OutboxMessage.objects.filter(dedupe_key__in=keys))
        assert {m.status for m in rows} == {"pending"} and len(rows) == 2
        time.sleep(1.0)
        assert receiver.hits == [] and not any(world["mail"].iterdir())

        redis_server.start()  # same port: the worker started before reconnects itself
        worker.wait_ready()
        outbox_sweep()
        assert wait_for(lambda: all(_message(schema, m.pk).status == "sent" for m in rows)), (
            world["log"].read_text()[-3000:])
        outbox_sweep()  # a second sweep finds nothing to do
        time.sleep(1.5)
        webhook_key = f"{schema}:dispatch:{dispatch.pk}:webhook"
        assert [h["key"] for h in receiver.hits] == [webhook_key]
        mails = [p.read_text(errors="replace") for p in world["mail"].iterdir()]
        assert len(mails) == 1 and f"{schema}:dispatch:{dispatch.pk}:email" in mails[0]
    finally:
        with schema_context(schema):
            Agency.objects.filter(pk=damkar.pk).update(
                email=saved[0], webhook_url=saved[1], webhook_secret=saved[2])
            _forget_intake(call_id)


def _forget_intake(call_id: str) -> None:
    """The committed call, incident and dispatch of this test (shared session data)."""
    from incidents.models import Call, Incident

    incident_ids = list(Call.objects.filter(external_id=call_id)
                        .exclude(incident=None).values_list("incident_id", flat=True))
    Call.objects.filter(external_id=call_id).delete()
    with purging():
        for incident in Incident.objects.filter(pk__in=incident_ids):
            incident.delete()
