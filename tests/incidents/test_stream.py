"""Pushed consoles: the events server (siaga112.events under uvicorn, a real process on
the session's database and the machine's Redis) streams a Pemda's changes to that
Pemda's consoles only, to the roles that see a console only, and the web server
(WSGI) answers the same path at once so browsers keep polling."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from conftest import DAIRI, SIDOARJO, host_of
from incidents.models import Call
from incidents.services import calls as call_services
from tenants.models import Tenant
from tests.cleanup import purging
from tests.foundation.private_servers import free_port, source_url_of

ROOT = Path(__file__).resolve().parents[2]
PATH = "/console/stream/"


class EventsServer:
    def __init__(self, env_extra: dict[str, str], log: Path, port: int = 0) -> None:
        self.port = port or free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
        env.update({"SIAGA112_DEBUG": "1", "SIAGA112_DEBUG_PAGES": "0",
                    "DATABASE_URL": source_url_of(connection.settings_dict),
                    "SIAGA112_EVENTS_HEARTBEAT_SECONDS": "0.5", **env_extra})
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "uvicorn", "siaga112.events:application",
                 "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise AssertionError("events server did not start: "
                                         + log.read_text()[-2000:]) from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class Stream:
    """One GET of the stream over a raw socket, read event by event (the body may be
    chunked: a line of hex digits alone is chunk framing, never an SSE line)."""

    def __init__(self, port: int, host: str, cookie: str = "",
                 headers: dict[str, str] | None = None) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        lines = [f"GET {PATH} HTTP/1.1", f"Host: {host}", "Accept: text/event-stream",
                 *([f"Cookie: {cookie}"] if cookie else []),
                 *[f"{k}: {v}" for k, v in (headers or {}).items()]]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed before the headers"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {k.strip().lower(): v.strip()
                        for k, v in (h.split(":", 1) for h in header_lines)}
        self.type = self.headers.get("content-type", "")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def body(self) -> Any:
        length = int(self.headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self.buffer += self.sock.recv(65536)
        return json.loads(self.buffer[:length])

    def events(self, seconds: float,
               until: Callable[[list[tuple[str, str]]], bool] | None = None
               ) -> list[tuple[str, str]]:
        """(event name or ':' for a comment, data) read for `seconds`, or until what was
        read satisfies `until` (a test waiting for an event stops once it came)."""
        found: list[tuple[str, str]] = []
        name, data = "", ""
        deadline = time.monotonic() + seconds
        while True:
            while b"\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\n", 1)
                text = raw.decode().rstrip("\r")
                if text and all(c in "0123456789abcdefABCDEF" for c in text):
                    continue
                if text.startswith(":"):
                    found.append((":", text[1:].strip()))
                elif text.startswith("event:"):
                    name = text[6:].strip()
                elif text.startswith("data:"):
                    data = text[5:].strip()
                elif text == "" and name:
                    found.append((name, data))
                    name, data = "", ""
            if until is not None and until(found):
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                return found
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                return found
            if not chunk:
                return found
            self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def events_server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[EventsServer]:
    with django_db_blocker.unblock():
        server = EventsServer({}, tmp_path_factory.mktemp("events") / "events.log")
    yield server
    server.stop()


# The events server is another process: it sees committed rows only, so these tests
# take the session's tenants as committed rows (not the `db`-wrapped tenant fixtures).
@pytest.fixture
def dairi(committed) -> Any:
    return Tenant.objects.select_related("region").get(region__code=DAIRI)


@pytest.fixture
def sidoarjo(committed) -> Any:
    return Tenant.objects.select_related("region").get(region__code=SIDOARJO)


@pytest.fixture
def session_of(committed) -> Iterator[Any]:
    """session_of(tenant, username[, verified]) -> the Cookie header of a committed session."""
    made: list[tuple[str, str]] = []

    def make(tenant: Any, username: str, *, verified: bool = True) -> str:
        client = Client(HTTP_HOST=host_of(tenant))
        with schema_context(tenant.schema_name):
            user = User.objects.get(username=username)
            if verified:
                client.force_login(user)
            else:  # Django's own, without the test suite's second-factor shortcut
                Client.force_login.__wrapped__(client, user)  # type: ignore[attr-defined]
        key = client.cookies["sessionid"].value
        made.append((tenant.schema_name, key))
        return f"sessionid={key}"

    yield make
    for schema, key in made:
        with schema_context(schema):
            Session.objects.filter(session_key=key).delete()


def _has_change(found: list[tuple[str, str]]) -> bool:
    return any(name == "change" for name, _ in found)


def _backends() -> int:
    """Connections to this test database other than this process's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                       " AND pid <> pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _ring(tenant: Any, last_digits: str = "5432") -> str:
    external = f"stream-{uuid.uuid4().hex[:10]}"
    with schema_context(tenant.schema_name):
        call_services.pbx_event_record(event="ringing", external_id=external,
                                       caller_raw=f"+628129876{last_digits}", trunk="T",
                                       at=timezone.now(), is_test=True)
    return external


def _purge(tenant: Any, external: str) -> None:
    with schema_context(tenant.schema_name), purging():
        Call.objects.filter(external_id=external).delete()


def test_a_change_reaches_its_pemdas_streams_and_never_another_pemdas(
    events_server, session_of, dairi, sidoarjo
):
    backends_before = _backends()
    dairi_op = Stream(events_server.port, host_of(dairi), session_of(dairi, "operator1"))
    # A supervisor (two factors, passed) and a responder follow the stream too.
    dairi_sup = Stream(events_server.port, host_of(dairi), session_of(dairi, "supervisor"))
    sido = Stream(events_server.port, host_of(sidoarjo), session_of(sidoarjo, "damkar"))
    external = ""
    try:
        for stream in (dairi_op, dairi_sup, sido):
            assert stream.status == 200 and stream.type.startswith("text/event-stream")
            assert str(stream.header("Cache-Control")).find("no-cache") >= 0
            first = stream.events(2, until=bool)
            assert first and first[0][0] == "ready", first
        # An open stream holds no PostgreSQL connection (its request's is closed).
        time.sleep(0.5)
        assert _backends() <= backends_before, "open streams keep database connections"
        external = _ring(dairi)
        for stream in (dairi_op, dairi_sup):
            changes = [e for e in stream.events(3, until=_has_change) if e[0] == "change"]
            assert changes, "no change event after a ringing call"
            data = json.loads(changes[0][1])
            # Nothing but the list and its counter: no call, no caller.
            assert set(data) == {"kind", "n"} and data["kind"] == "calls"
            assert isinstance(data["n"], int) and data["n"] > 0
            assert external not in changes[0][1]
        seen = sido.events(2)
        assert [e for e in seen if e[0] == "change"] == [], seen
        # Idle streams carry heartbeats (0.5 s in this server) so proxies keep them.
        assert (":", "heartbeat") in seen
    finally:
        for stream in (dairi_op, dairi_sup, sido):
            stream.close()
        if external:
            _purge(dairi, external)


def test_denied_streams_get_no_events(events_server, session_of, dairi, sidoarjo, committed):
    port = events_server.port
    dairi_host = host_of(dairi)
    with schema_context(dairi.schema_name):
        before = Session.objects.count()
    # Anonymous.
    anonymous = Stream(port, dairi_host)
    assert anonymous.status == 401
    assert anonymous.body() == {"error": anonymous_error(), "code": "not_signed_in",
                                "status": 401}
    # A role without a console: the Pemda admin (second factor passed).
    admin = Stream(port, dairi_host, session_of(dairi, "admin"))
    assert admin.status == 403 and admin.body()["code"] == "forbidden"
    # A supervisor whose session has not passed the second factor.
    unverified = Stream(port, dairi_host, session_of(dairi, "supervisor", verified=False),
                        headers={"Accept": "application/json"})
    assert unverified.status == 403 and not unverified.type.startswith("text/event-stream")
    # Dairi's operator's session on Sidoarjo's host is nobody there.
    other = Stream(port, host_of(sidoarjo), session_of(dairi, "operator1"))
    assert other.status == 401
    # The national host has no stream; nor does an unknown host.
    assert Stream(port, "localhost", session_of(dairi, "operator1")).status == 404
    assert Stream(port, "nowhere.localhost").status == 404
    # A write to the stream is refused.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", PATH, body=b"", headers={
        "Host": dairi_host, "Cookie": session_of(dairi, "operator1")})
    assert conn.getresponse().status in (403, 405)
    conn.close()
    # The events server answers nothing but the stream.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/console/calls/", headers={
        "Host": dairi_host, "Cookie": session_of(dairi, "operator1")})
    assert conn.getresponse().status == 404
    conn.close()
    with schema_context(dairi.schema_name):
        # Only the sessions this test made itself (6), nothing the requests wrote.
        assert Session.objects.count() == before + 6


def anonymous_error() -> str:
    from django.utils import translation

    with translation.override("id"):
        return translation.gettext("Sign in to follow the console.")


def test_the_web_server_answers_the_stream_at_once_so_browsers_keep_polling(as_user, tenant_a):
    """Under the WSGI web server a stream would hold a thread: the route answers with one
    `unavailable` event and ends; stream.js then stays on polling."""
    response = as_user(tenant_a, "operator1").get(PATH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    body = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    assert "event: unavailable" in body and "event: change" not in body


def test_without_redis_the_stream_is_refused_and_consoles_poll(
    session_of, dairi, tmp_path, committed
):
    dead = free_port()
    server = EventsServer({"REDIS_URL": f"redis://127.0.0.1:{dead}/0"}, tmp_path / "e.log")
    try:
        stream = Stream(server.port, host_of(dairi), session_of(dairi, "operator1"))
        assert stream.status == 503
        assert stream.body()["code"] == "unavailable"
    finally:
        server.stop()


def test_cors_only_for_the_tenant_pages_own_origin(session_of, dairi, tmp_path, committed):
    """The demo's events server listens on its own port: the page's exact origin (same
    host, the platform's port) may read the stream with its cookies, no other."""
    server = EventsServer({"SIAGA112_EVENTS_PORT": "9999", "SIAGA112_PUBLIC_PORT": "8112"},
                          tmp_path / "e.log")
    host = host_of(dairi)
    cookie = session_of(dairi, "operator1")
    try:
        good = Stream(server.port, host, cookie, headers={"Origin": f"http://{host}:8112"})
        assert good.status == 200
        assert good.header("Access-Control-Allow-Origin") == f"http://{host}:8112"
        assert good.header("Access-Control-Allow-Credentials") == "true"
        good.close()
        for origin in (f"http://{host}:8113", "http://evil.localhost:8112",
                       f"https://{host}:8112", "null"):
            bad = Stream(server.port, host, cookie, headers={"Origin": origin})
            assert bad.header("Access-Control-Allow-Origin") is None, origin
            bad.close()
    finally:
        server.stop()


def test_pages_name_their_stream_and_the_csp_allows_only_that_origin(
    as_user, tenant_a, settings
):
    op = as_user(tenant_a, "operator1")
    page = op.get("/console/").content.decode()
    assert 'data-url="/console/stream/"' in page
    assert "connect-src 'self';" in op.get("/console/")["Content-Security-Policy"] + ";"
    settings.SIAGA112 = {**settings.SIAGA112, "EVENTS_PORT": "8113"}
    response = op.get("/console/")
    host = host_of(tenant_a)
    assert f'data-url="http://{host}:8113/console/stream/"' in response.content.decode()
    csp = response["Content-Security-Policy"]
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src"))
    assert connect.split()[1:] == ["'self'", f"http://{host}:8113"]
    # The Pemda admin has no console: no stream on its pages.
    assert "stream.js" not in as_user(tenant_a, "admin").get("/manage/users/").content.decode()


@pytest.mark.browser
def test_a_console_in_chromium_follows_the_stream_not_the_poll(
    browser, live_server_url, dairi, settings, tmp_path, screenshot_dir
):
    """Pages from the web server, the stream from the events server on another port
    (as `make demo`): once the stream is up the calls list stops polling, and a ringing
    call still shows within a second or two, fetched because of its event."""
    from siaga112.demo import DEMO_PASSWORD

    web_port = int(live_server_url.rsplit(":", 1)[1])
    events_port = free_port()
    settings.SIAGA112 = {**settings.SIAGA112, "EVENTS_PORT": str(events_port),
                         "PUBLIC_PORT": str(web_port)}
    server = EventsServer({"SIAGA112_EVENTS_PORT": str(events_port),
                           "SIAGA112_PUBLIC_PORT": str(web_port)},
                          tmp_path / "events.log", port=events_port)
    external = ""
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        base = f"http://{host_of(dairi)}:{web_port}"
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", "operator1")
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/**")
        # An open stream keeps the network busy: wait for the mode, not for idleness.
        page.wait_for_selector("html[data-stream=live]", timeout=20_000)
        page.wait_for_timeout(1500)  # the refresh the stream's opening asks for
        answers: list[tuple[float, int]] = []
        page.on("response", lambda r: answers.append((time.monotonic(), r.status))
                if "/console/calls/" in r.url else None)
        time.sleep(3)
        assert answers == [], "the calls list still polls while the stream is live"
        rang_at = time.monotonic()
        # The ringing list shows the oldest 25: the new call may be on a later page,
        # but its counter moved, so the list is fetched again and answered in full.
        external = _ring(dairi)
        deadline = time.monotonic() + 10
        while not answers and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert answers, "no fetch of the calls list after a change"
        at, status = answers[0]
        assert status == 200 and at - rang_at < 3, (status, at - rang_at)
        page.screenshot(path=str(screenshot_dir / "console_stream_live.png"))
    finally:
        page.close()
        server.stop()
        if external:
            _purge(dairi, external)
