"""Benchmark: live consoles polling with ETags, and a flood of ringing calls.

Builds its own throwaway database (`siaga112_bench_consoles`, dropped afterwards) with
TENANTS live Pemda, one call-taker each signed in from CONSOLES/TENANTS browsers, and
serves it with the Dockerfile's web server and configuration (siaga112.webserver). A load
generator (one asyncio process, raw HTTP/1.1 keep-alive: it is not the bottleneck; its
own CPU is printed) plays the consoles: each polls /console/calls/ once a second with
the ETag of what it shows, as incidents.js does. Prints, asserts nothing about time:

1. idle: requests/s, status mix, 304 latency, and the CPU of the web server and of the
   PostgreSQL backends while no Pemda changes anything;
2. change latency: a call rings in one Pemda (PBX API); the time until each console of
   that Pemda has received a fragment showing it (p50/p95/max); then, for comparison,
   full-fragment polling (no ETag: what every console did before);
3. flood: FLOOD ringing events into one Pemda through the PBX API (16 connections),
   first spread over one minute (the issue's "10,000 in one minute"), then the same
   number again as fast as the server answers them; each time the records counted
   afterwards, and the operator's console page and calls fragment (size, p50/p95)
   while the flood runs and after it;
4. stream mode (pushed consoles): the events server (uvicorn, siaga112.events, one
   process) beside the web server; every console holds its event stream open and, on each
   `change` event, fetches /console/calls/ with its ETag from the web server, as
   incidents/stream.js does. Idle: CPU of the events server per connected console and
   its memory (RSS); then the change latency as in 2.

    .venv/bin/python -m tests.perf.bench_consoles [TENANTS CONSOLES FLOOD]
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.perf.bench_intake import WebServer
from tests.perf.benchdb import bench_database

ROOT = Path(__file__).resolve().parents[2]
POLL_SECONDS = 1.0
PBX_KEY = "pbx_benchflood_" + "k" * 32


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def describe(ms: list[float]) -> str:
    if not ms:
        return "n=0"
    return (f"n={len(ms)} median {statistics.median(ms):.1f} ms, p95 {pct(ms, 95):.1f} ms, "
            f"max {max(ms):.1f} ms")


# --- data ----------------------------------------------------------------------------------


@dataclass
class Console:
    host: str
    cookie: str
    etag: str = ""
    seen: set[str] = field(default_factory=set)


def build(tenants: int, consoles: int) -> tuple[list[Console], list[str]]:
    """Provision the Pemda, a call-taker in each, and a session per console."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from accounts.models import Role, User
    from incidents.services.pbx import pbx_credential_create
    from tenants.models import Region, Tenant
    from tenants.services import (
        public_tenant_ensure,
        regions_load,
        template_ensure,
        tenant_provision,
        tenant_set_status,
    )

    call_command("migrate_schemas", "--shared", interactive=False, verbosity=0)
    regions_load()
    public_tenant_ensure()
    template_ensure()
    hosts = []
    result: list[Console] = []
    for region in Region.objects.filter(kind="regency").order_by("code")[:tenants]:
        tenant = tenant_provision(region=region).tenant
        tenant_set_status(region_id=region.code, status=Tenant.Status.LIVE)
        host = tenant.domains.get(is_primary=True).domain
        hosts.append(host)
        with schema_context(tenant.schema_name):
            user = User(username="operator", role=Role.CALL_TAKER, is_active=True)
            user.set_unusable_password()
            user.save()
            if len(hosts) == 1:
                pbx_credential_create(name="bench", actor=None, raw_key=PBX_KEY)
            for _ in range(consoles // tenants):
                session = SessionStore()
                session[SESSION_KEY] = str(user.pk)
                session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                result.append(Console(host=host, cookie=f"sessionid={session.session_key}"))
    return result, hosts


# --- a small HTTP/1.1 keep-alive client ----------------------------------------------------


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, headers: dict[str, str],
                      body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        for attempt in range(3):
            try:
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection("127.0.0.1",
                                                                             self.port)
                lines = [f"{method} {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
                if body:
                    lines.append(f"Content-Length: {len(body)}")
                self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                assert self.reader is not None
                head = await self.reader.readuntil(b"\r\n\r\n")
                status_line, *header_lines = head.decode("latin-1").split("\r\n")
                status = int(status_line.split()[1])
                parsed = {}
                for line in header_lines:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        parsed[k.strip().lower()] = v.strip()
                length = int(parsed.get("content-length", "0"))
                content = await self.reader.readexactly(length) if length else b""
                if parsed.get("connection", "").lower() == "close":
                    self.close()
                return status, parsed, content
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Stats:
    status: dict[int, int] = field(default_factory=dict)
    latency: dict[int, list[float]] = field(default_factory=dict)
    bytes: int = 0
    # call id -> {console index: seconds when its fragment first showed the call}
    arrivals: dict[str, dict[int, float]] = field(default_factory=dict)


async def poll(index: int, console: Console, port: int, stats: Stats, stop: asyncio.Event,
               conditional: bool) -> None:
    conn = Conn(port)
    await asyncio.sleep(random.random() * POLL_SECONDS)
    next_at = time.monotonic()
    while not stop.is_set():
        headers = {"Host": console.host, "Cookie": console.cookie, "HX-Request": "true"}
        if conditional and console.etag:
            headers["If-None-Match"] = console.etag
        t0 = time.monotonic()
        status, head, body = await conn.request("GET", "/console/calls/", headers)
        now = time.monotonic()
        stats.status[status] = stats.status.get(status, 0) + 1
        stats.latency.setdefault(status, []).append((now - t0) * 1000)
        stats.bytes += len(body)
        if status == 200:
            console.etag = head.get("etag", "")
            text = body.decode()
            for call_id, seen in stats.arrivals.items():
                if index not in seen and call_id in text:
                    seen[index] = time.time()
        next_at += POLL_SECONDS
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    conn.close()


async def follow(index: int, console: Console, port: int, events_port: int, stats: Stats,
                 stop: asyncio.Event, opened: list[int]) -> None:
    """A pushed console: its stream open on the events server, a conditional fetch of
    its fragment from the web server on every change event (and once at the start)."""
    conn = Conn(port)

    async def fetch() -> None:
        headers = {"Host": console.host, "Cookie": console.cookie, "HX-Request": "true"}
        if console.etag:
            headers["If-None-Match"] = console.etag
        t0 = time.monotonic()
        status, head, body = await conn.request("GET", "/console/calls/", headers)
        stats.status[status] = stats.status.get(status, 0) + 1
        stats.latency.setdefault(status, []).append((time.monotonic() - t0) * 1000)
        stats.bytes += len(body)
        if status == 200:
            console.etag = head.get("etag", "")
            text = body.decode()
            for call_id, seen in stats.arrivals.items():
                if index not in seen and call_id in text:
                    seen[index] = time.time()

    await asyncio.sleep(random.random() * 2)
    while not stop.is_set():
        reader, writer = await asyncio.open_connection("127.0.0.1", events_port)
        writer.write((f"GET /console/stream/ HTTP/1.1\r\nHost: {console.host}\r\n"
                      f"Cookie: {console.cookie}\r\nAccept: text/event-stream\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        assert b" 200 " in head.split(b"\r\n", 1)[0], head[:200]
        opened[0] += 1
        await fetch()
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            if not line:
                break  # the stream's lifetime ended: open a new one
            if line.startswith(b"event: change"):
                await fetch()
        writer.close()
    conn.close()


async def phase_stream(consoles: list[Console], hosts: list[str], port: int,
                       events_port: int, meter: CpuMeter, events_pid: int, changes: int,
                       idle_seconds: float) -> str:
    from django_tenants.utils import schema_context

    from incidents.models import Call, CallState
    from tenants.models import Domain

    # The ringing list shows the oldest 25: the polling phase's calls would hide this
    # phase's on page 2. Marked missed in bulk (no counter bump: the fetch at opening
    # reads the list afresh anyway).
    with schema_context(Domain.objects.get(domain=hosts[0]).tenant.schema_name):
        Call.objects.filter(state=CallState.RINGING).update(state=CallState.MISSED)
    stats = Stats()
    stop = asyncio.Event()
    opened = [0]
    for c in consoles:
        c.etag = ""
    tasks = [asyncio.create_task(follow(i, c, port, events_port, stats, stop, opened))
             for i, c in enumerate(consoles)]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (opened[0] >= len(consoles)
                                               and all(c.etag for c in consoles)):
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)
    stats.status.clear()
    stats.latency.clear()
    stats.bytes = 0
    a = meter.sample()
    await asyncio.sleep(idle_seconds)
    b = meter.sample()
    seconds = b[3] - a[3]
    events_cpu, pg, own = ((b[i] - a[i]) / seconds * 100 for i in range(3))
    rss = _rss_kib(events_pid)
    lines = [
        f"stream mode, idle: {opened[0]} streams open ({len(consoles)} consoles); CPU: events "
        f"server {events_cpu:.1f}% ({events_cpu / len(consoles) * 10:.3f}‰ of a core per "
        f"connected console), PostgreSQL backends {pg:.0f}%, load generator {own:.0f}%; "
        f"events server memory {rss / 1024:.0f} MiB RSS "
        f"({rss / len(consoles):.0f} KiB per console over the whole process); "
        f"fragment requests while idle: {sum(stats.status.values())}",
    ]
    started: dict[str, float] = {}
    pbx = Conn(port)
    for n in range(changes):
        call_id = f"push-{n}-{uuid.uuid4().hex[:8]}"
        stats.arrivals[call_id] = {}
        t0 = time.time()
        status = await ring(port, hosts[0], call_id, f"+6281311{n:05d}", pbx)
        assert status in (200, 201), status
        started[call_id] = t0
        await asyncio.sleep(1.5)
    await asyncio.sleep(10)
    stop.set()
    await asyncio.gather(*tasks)
    pbx.close()
    latencies, missing = [], 0
    watching = [i for i, c in enumerate(consoles) if c.host == hosts[0]]
    for call_id, t0 in started.items():
        seen = stats.arrivals[call_id]
        for i in watching:
            if i in seen:
                latencies.append((seen[i] - t0) * 1000)
            else:
                missing += 1
    mix = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status.items()))
    lines.append(f"stream mode, change to console latency ({changes} ringing calls x "
                 f"{len(watching)} consoles of that Pemda, {len(consoles)} consoles connected): "
                 f"{describe(latencies)}; never arrived: {missing}; fragment answers {mix}")
    return "\n".join(lines)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_events(port: int) -> subprocess.Popen[bytes]:
    """The events server as in the compose file and `make demo`: uvicorn, one process."""
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "uvicorn", "siaga112.events:application",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"],
        cwd=ROOT, env=dict(os.environ),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the events server did not start")


# --- CPU of the server -----------------------------------------------------------------------


def _ticks(pid: int, reaped: bool = False) -> int:
    """CPU ticks of a process; with `reaped`, also those of its children that have
    exited and been waited for (web workers replaced past WEB_MAX_RSS_MIB, whose CPU
    would otherwise vanish from the sum between two samples)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if reaped else 0)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _pg_backends(dbname: str) -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                       "AND pid <> pg_backend_pid()", [dbname])
        return [r[0] for r in cursor.fetchall()]


class CpuMeter:
    """CPU seconds of the web server (main process and workers) and of this database's backends."""

    def __init__(self, server_pid: int, dbname: str) -> None:
        self.server_pid, self.dbname = server_pid, dbname
        self.pg_seen: dict[int, int] = {}
        self.pg_total = 0

    def sample(self) -> tuple[float, float, float, float]:
        hz = os.sysconf("SC_CLK_TCK")
        web = (_ticks(self.server_pid, reaped=True)
               + sum(_ticks(p) for p in _children(self.server_pid))) / hz
        # Backends come and go: add each one's growth since it was last seen.
        for pid in _pg_backends(self.dbname):
            ticks = _ticks(pid)
            self.pg_total += max(0, ticks - self.pg_seen.get(pid, ticks))
            self.pg_seen[pid] = ticks
        own = time.process_time()
        return web, self.pg_total / hz, own, time.monotonic()


def cpu_line(label: str, a: tuple[float, ...], b: tuple[float, ...], stats: Stats,
             consoles: int) -> str:
    seconds = b[3] - a[3]
    web, pg, own = ((b[i] - a[i]) / seconds * 100 for i in range(3))
    total = sum(stats.status.values())
    mix = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status.items()))
    return (f"{label}: {consoles} consoles, {total / seconds:.0f} req/s ({mix}), "
            f"{stats.bytes / seconds / 1024:.0f} KiB/s; CPU: web server {web:.0f}% "
            f"({web / consoles * 10:.2f}‰ of a core per console), PostgreSQL "
            f"backends {pg:.0f}%, load generator {own:.0f}% (100% = one core)")


# --- the run ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, log: Path) -> WebServer:
    env = dict(os.environ)
    # The flood is one PBX sending 10,000 events in a minute: above the default per-key
    # limit (1200/60), which would answer most of them 429.
    env["SIAGA112_PBX_REQUESTS_PER_KEY"] = "100000/60"
    return WebServer("siaga112.wsgi:application", env, port, log)


async def ring(port: int, host: str, call_id: str, caller: str,
               conn: Conn | None = None) -> int:
    conn = conn or Conn(port)
    body = json.dumps({"event": "ringing", "call_id": call_id, "caller": caller,
                       "trunk": "BENCH"}).encode()
    status, _, _ = await conn.request("POST", "/api/pbx/events/", {
        "Host": host, "Authorization": f"Bearer {PBX_KEY}",
        "Content-Type": "application/json"}, body)
    return status


async def warm(consoles: list[Console]) -> None:
    """Until every console has had its first full answer (cold workers are slow)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(c.etag for c in consoles):
        await asyncio.sleep(0.2)
    await asyncio.sleep(POLL_SECONDS)


async def phase_idle(consoles: list[Console], port: int, meter: CpuMeter, seconds: float,
                     conditional: bool) -> str:
    stats = Stats()
    stop = asyncio.Event()
    if not conditional:
        for c in consoles:
            c.etag = ""
    tasks = [asyncio.create_task(poll(i, c, port, stats, stop, conditional))
             for i, c in enumerate(consoles)]
    await warm(consoles)
    stats.status.clear()
    stats.latency.clear()
    stats.bytes = 0
    a = meter.sample()
    await asyncio.sleep(seconds)
    b = meter.sample()
    stop.set()
    await asyncio.gather(*tasks)
    label = "idle, conditional (ETag)" if conditional else "idle, full fragments (no ETag)"
    lines = [cpu_line(label, a, b, stats, len(consoles))]
    for status, ms in sorted(stats.latency.items()):
        lines.append(f"  {status}: {describe(ms)}")
    return "\n".join(lines)


async def phase_changes(consoles: list[Console], hosts: list[str], port: int, changes: int,
                        meter: CpuMeter) -> str:
    stats = Stats()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(poll(i, c, port, stats, stop, True))
             for i, c in enumerate(consoles)]
    await warm(consoles)
    started: dict[str, tuple[float, str]] = {}
    pbx = Conn(port)
    for n in range(changes):
        # The flood key belongs to the first Pemda; ring there and time its consoles.
        call_id = f"change-{n}-{uuid.uuid4().hex[:8]}"
        stats.arrivals[call_id] = {}
        t0 = time.time()
        status = await ring(port, hosts[0], call_id, f"+6281300{n:05d}", pbx)
        assert status in (200, 201), status
        started[call_id] = (t0, hosts[0])
        await asyncio.sleep(1.5)
    await asyncio.sleep(10)  # a tail for the last change
    stop.set()
    await asyncio.gather(*tasks)
    pbx.close()
    latencies, missing = [], 0
    watching = [i for i, c in enumerate(consoles) if c.host == hosts[0]]
    for call_id, (t0, _host) in started.items():
        seen = stats.arrivals[call_id]
        for i in watching:
            if i in seen:
                latencies.append((seen[i] - t0) * 1000)
            else:
                missing += 1
    return (f"change to console latency ({changes} ringing calls x {len(watching)} consoles "
            f"of that Pemda, {len(consoles)} consoles polling): {describe(latencies)}; "
            f"never arrived: {missing}")


async def phase_flood(port: int, host: str, consoles: list[Console], n: int,
                      over_seconds: float | None = None) -> str:
    """N ringing events into one Pemda: spread evenly over OVER_SECONDS (the issue's
    "10,000 in one minute"), or as fast as 16 connections get answers when None."""
    from django_tenants.utils import schema_context

    from incidents.models import Call
    from tenants.models import Domain

    operator = next(c for c in consoles if c.host == host)
    schema = Domain.objects.get(domain=host).tenant.schema_name
    with schema_context(schema):
        before = Call.objects.count()
        before_ringing = Call.objects.filter(state="ringing").count()
    statuses: dict[int, int] = {}
    # One iterator shared by the 16 senders: each takes the next event number.
    queue = iter(range(n))
    page_ms: dict[str, list[float]] = {"/console/": [], "/console/calls/": []}
    page_bytes: dict[str, int] = {}

    interval = (over_seconds / n) if over_seconds else 0.0

    async def sender() -> None:
        conn = Conn(port)
        for i in queue:
            if interval:
                # Event i is due at its slot; a sender that falls behind sends at once.
                delay = t0 + i * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            status = await ring(port, host, f"flood-{i}-{uuid.uuid4().hex[:8]}",
                                f"+62812{i:07d}", conn)
            statuses[status] = statuses.get(status, 0) + 1
        conn.close()

    async def operator_pages(stop: asyncio.Event) -> None:
        conn = Conn(port)
        while not stop.is_set():
            for path in page_ms:
                t0 = time.monotonic()
                status, _, body = await conn.request(
                    "GET", path, {"Host": host, "Cookie": operator.cookie})
                page_ms[path].append((time.monotonic() - t0) * 1000)
                page_bytes[path] = len(body)
                assert status == 200, (path, status)
            await asyncio.sleep(0.25)
        conn.close()

    stop = asyncio.Event()
    watcher = asyncio.create_task(operator_pages(stop))
    t0 = time.monotonic()
    await asyncio.gather(*(sender() for _ in range(16)))
    flood_seconds = time.monotonic() - t0
    stop.set()
    await watcher
    during = {p: list(v) for p, v in page_ms.items()}
    for v in page_ms.values():
        v.clear()
    stop = asyncio.Event()
    watcher = asyncio.create_task(operator_pages(stop))
    await asyncio.sleep(15)
    stop.set()
    await watcher
    with schema_context(schema):
        stored = Call.objects.count() - before
    ok = sum(v for k, v in statuses.items() if k in (200, 201))
    pace = (f"paced over {over_seconds:.0f} s" if over_seconds
            else "as fast as answered")
    lines = [
        f"flood ({pace}): {n} ringing events into one Pemda over 16 connections in "
        f"{flood_seconds:.1f} s ({n / flood_seconds:.0f}/s); answers {statuses}; "
        f"call records stored {stored} (accepted {ok}, lost {ok - stored}); "
        f"ringing before it {before_ringing}",
    ]
    for path in page_ms:
        lines.append(f"  {path} during the flood: {describe(during[path])}")
        lines.append(f"  {path} after it ({n} ringing): {describe(page_ms[path])}, "
                     f"{page_bytes[path] / 1024:.1f} KiB")
    return "\n".join(lines)


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(tenants: int = 50, consoles: int = 500, flood: int = 10_000) -> None:
    # The ORM reads between awaits (CPU of the backends, the record count) are plain
    # blocking calls in this single-purpose process.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Stopped from outside: still stop the web server and drop the database (finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    out(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    # Another name lets two checkouts measure at once without dropping each other's.
    with bench_database(os.environ.get("BENCH_CONSOLES_DATABASE", "siaga112_bench_consoles")):
        from django.db import connection

        t0 = time.perf_counter()
        console_list, hosts = build(tenants, consoles)
        out(f"built {tenants} live Pemda, {len(console_list)} console sessions in "
            f"{time.perf_counter() - t0:.0f} s")
        dbname = connection.settings_dict["NAME"]
        connection.close()
        port = free_port()
        server = start_server(port, Path(tempfile.mkdtemp(prefix="bench-consoles-")) / "web.log")
        out(f"web server (siaga112.webserver, granian): {server.shape()}; its log: {server.log}")
        events_port = free_port()
        events = start_events(events_port)
        try:
            meter = CpuMeter(server.proc.pid, dbname)
            out("--- polling mode (conditional GET every second) ---")
            out(asyncio.run(phase_idle(console_list, port, meter, 30, True)))
            out(asyncio.run(phase_changes(console_list, hosts, port, 20, meter)))
            out("--- stream mode (server-sent events, fetch on change) ---")
            out(f"events server memory before any stream: {_rss_kib(events.pid) / 1024:.0f} MiB RSS")
            out(asyncio.run(phase_stream(console_list, hosts, port, events_port,
                                         CpuMeter(events.pid, dbname), events.pid, 20, 30)))
            out("--- polling mode, continued ---")
            # Full fragments overload the server: last before the flood, and a pause
            # for its queue to drain.
            out(asyncio.run(phase_idle(console_list, port, meter, 10, False)))
            time.sleep(20)
            # The figure first (10,000 in a minute), then the same again as fast
            # as the server answers, on top of the first flood's still-ringing calls.
            out(asyncio.run(phase_flood(port, hosts[0], console_list, flood, 60.0)))
            out(asyncio.run(phase_flood(port, hosts[0], console_list, flood)))
            out(f"load average at the end {os.getloadavg()[0]:.1f}")
        finally:
            events.terminate()
            events.wait(timeout=30)
            server.stop()
            connection.close()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
