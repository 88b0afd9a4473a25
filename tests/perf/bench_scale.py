"""Benchmark: national scale, and the web server's memory under it.

Builds its own database (`siaga112_bench_scale`, dropped afterwards unless --keep;
--reuse measures a kept one again without rebuilding) with all 514 Pemda provisioned
(the snapshot clone bench_provision measures), 50 of them live, each with a
call-taker signed in from 20 browsers and a PBX key. Serves it with the production
web server (siaga112.webserver) in production settings (as bench_intake), and plays the 1,000
consoles from one asyncio process (bench_consoles' keep-alive client, one connection
per console) doing what console.html and layout.html do today: /console/calls/ and
/console/incidents/ every second, /console/ringing/ every 2 s and /console/map.json
every 5 s, each with the ETag of what it shows. A call rings every few seconds in
one live Pemda after another (PBX API), and every host of the 514 is visited a few
times (/healthz/) before the consoles connect, so each worker's host→tenant cache
holds all of them.

Prints, asserts nothing:
- the resident memory (RSS, and PSS: RSS with the pages shared after the fork
  divided among the processes sharing them) of the web server's main process and each worker
  from /proc, at start, after warm-up and at the end, each one's maximum, and how many
  workers were replaced (WEB_MAX_RSS_MIB);
- the PostgreSQL backends of this database: count and memory;
- server CPU (web server, PostgreSQL backends, the load generator);
- answer latency p50/p95 per path, the share of 304s, a ringing call's way to the
  consoles of its Pemda, and every error (status, connection, server log);
- how the per-process caches grow (tenants/hosts.py, the PBX key cache), measured in
  this process with tracemalloc for all 514 hosts and the 50 keys.

    .venv/bin/python -m tests.perf.bench_scale [--seconds 120] [--keep | --reuse]

WEB_* variables override the server config as in production (e.g.
WEB_MAX_RSS_MIB=0 to watch the workers grow without replacement).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.perf.bench_consoles import (
    PBX_KEY,
    Conn,
    Console,
    CpuMeter,
    build,
    describe,
    pct,
    ring,
)
from tests.perf.bench_intake import WebServer, free_port, server_env
from tests.perf.benchdb import bench_database

DB_NAME = "siaga112_bench_scale"
# (path, seconds between two polls): console.html's two lists, layout.html's ringing
# watch and map.js's points.
POLLS = (("/console/calls/", 1), ("/console/incidents/", 1), ("/console/ringing/", 2),
         ("/console/map.json", 5))
SAMPLE_SECONDS = 5.0


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- the data ------------------------------------------------------------------------------


def build_nation(pemda: int, live: int, per: int) -> tuple[list[Console], list[str]]:
    """bench_consoles' live Pemda with their consoles, a PBX key in each, then the rest
    of the country provisioned (installed, not live)."""
    from django_tenants.utils import schema_context

    from incidents.services.pbx import pbx_credential_create
    from tenants.models import Domain, Region
    from tenants.services import tenant_provision

    t0 = time.perf_counter()
    consoles, hosts = build(live, live * per)
    out(f"built {live} live Pemda with {len(consoles)} console sessions in "
        f"{time.perf_counter() - t0:.0f} s")
    for host in hosts[1:]:  # build() gave the first one the key already
        with schema_context(Domain.objects.get(domain=host).tenant.schema_name):
            pbx_credential_create(name="bench", actor=None, raw_key=PBX_KEY)
    rest = list(Region.objects.filter(kind="regency").order_by("code")[live:pemda])
    t0 = time.perf_counter()
    seconds = [tenant_provision(region=r).seconds for r in rest]
    if seconds:
        out(f"provisioned {len(rest)} more Pemda in {time.perf_counter() - t0:.0f} s "
            f"(median {statistics.median(seconds):.3f} s, p95 {pct(seconds, 95):.3f} s each)")
    return consoles, hosts


def consoles_kept() -> tuple[list[Console], list[str]]:
    """The live Pemda and console sessions a --keep run left."""
    from django.contrib.sessions.models import Session
    from django_tenants.utils import schema_context

    from tenants.models import Tenant

    consoles, hosts = [], []
    for tenant in Tenant.objects.filter(status=Tenant.Status.LIVE).order_by("schema_name"):
        host = tenant.domains.get(is_primary=True).domain
        hosts.append(host)
        with schema_context(tenant.schema_name):
            consoles += [Console(host=host, cookie=f"sessionid={key}")
                         for key in Session.objects.values_list("session_key", flat=True)]
    return consoles, hosts


def all_hosts() -> list[str]:
    from tenants.models import Domain

    return list(Domain.objects.filter(is_primary=True).exclude(tenant__schema_name="public")
                .values_list("domain", flat=True))


# --- per-process caches ----------------------------------------------------------------------


def cache_bytes(fill: Callable[[], int], clear: Callable[[], None]) -> tuple[int, int]:
    """(entries, bytes) a cache holds once `fill` has run: the memory its clearing frees,
    so what the ORM allocates on the way (and keeps in its own caches) is not counted."""
    fill()  # the first pass warms the ORM's caches; only the second is measured
    clear()
    gc.collect()
    tracemalloc.start()
    try:
        entries = fill()
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        clear()
        gc.collect()
        return entries, full - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def cache_growth(hosts: list[str], live_hosts: list[str]) -> list[str]:
    from django.db import connection
    from django_tenants.utils import schema_context

    from incidents.services import pbx
    from tenants import hosts as host_cache

    def hosts_fill() -> int:
        for host in hosts:
            host_cache.tenant_for_host(host)
        return len(host_cache._by_host)

    schemas = [host_cache.tenant_for_host(h).schema_name for h in live_hosts]

    def keys_fill() -> int:
        for schema in schemas:
            with schema_context(schema):
                assert pbx.pbx_authenticate(PBX_KEY) is not None
        return len(pbx._live_keys)

    lines = []
    for name, fill, clear in (
        ("tenants/hosts.py host→tenant", hosts_fill, host_cache._by_host.clear),
        ("PBX key cache (schema, prefix)→credential", keys_fill, pbx._live_keys.clear),
    ):
        entries, size = cache_bytes(fill, clear)
        lines.append(f"  {name}: {entries} entries, {size / 1024:.0f} KiB "
                     f"({size / max(1, entries) / 1024:.1f} KiB each)")
    connection.set_schema_to_public()
    return lines


# --- memory from /proc ---------------------------------------------------------------------


def _kib(path: str, names: tuple[str, ...]) -> dict[str, int]:
    found = dict.fromkeys(names, 0)
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB. PSS shares each page among the processes mapping it: the
    workers fork from the server's main process (the interpreter and granian; each worker
    imports Django itself), so their RSS counts the shared pages several times over,
    and the PSS of all of them adds up."""
    rss = _kib(f"/proc/{pid}/status", ("VmRSS",))["VmRSS"]
    pss = _kib(f"/proc/{pid}/smaps_rollup", ("Pss",))["Pss"]
    return rss, pss


@dataclass
class Snapshot:
    label: str
    at: float
    master: tuple[int, int]
    workers: dict[int, tuple[int, int]]
    pg: dict[int, tuple[int, int]]


@dataclass
class MemoryWatch:
    server_pid: int
    dbname: str
    snapshots: list[Snapshot] = field(default_factory=list)
    workers_seen: set[int] = field(default_factory=set)
    worker_max: dict[int, int] = field(default_factory=dict)
    master_max: int = 0
    pg_max: tuple[int, int] = (0, 0)  # most backends at once, their largest RSS total

    def sample(self, label: str = "") -> Snapshot:
        from tests.perf.bench_consoles import _children, _pg_backends

        workers = {pid: memory(pid) for pid in _children(self.server_pid)}
        pg = {pid: memory(pid) for pid in _pg_backends(self.dbname)}
        snap = Snapshot(label, time.monotonic(), memory(self.server_pid), workers, pg)
        self.workers_seen |= set(workers)
        for pid, (rss, _) in workers.items():
            self.worker_max[pid] = max(self.worker_max.get(pid, 0), rss)
        self.master_max = max(self.master_max, snap.master[0])
        self.pg_max = (max(self.pg_max[0], len(pg)),
                       max(self.pg_max[1], sum(r for r, _ in pg.values())))
        if label:
            self.snapshots.append(snap)
        return snap

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
            except TimeoutError:
                pass


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def memory_lines(watch: MemoryWatch) -> list[str]:
    lines = ["memory (MiB; RSS / PSS):"]
    for snap in watch.snapshots:
        workers = ", ".join(f"{mib(r)}/{mib(p)}" for r, p in snap.workers.values())
        web_pss = snap.master[1] + sum(p for _, p in snap.workers.values())
        pg_rss = sum(r for r, _ in snap.pg.values())
        pg_pss = sum(p for _, p in snap.pg.values())
        lines.append(
            f"  {snap.label:<14} master {mib(snap.master[0])}/{mib(snap.master[1])}; "
            f"{len(snap.workers)} workers {workers}; web server PSS total {mib(web_pss)}; "
            f"PostgreSQL {len(snap.pg)} backends, RSS total {mib(pg_rss)}, PSS total "
            f"{mib(pg_pss)}")
    ordered = sorted(watch.worker_max.values(), reverse=True)
    lines.append(
        f"  max: master {mib(watch.master_max)}, a worker {mib(ordered[0] if ordered else 0)} "
        f"(every worker's max: {', '.join(mib(v) for v in ordered)}); workers seen "
        f"{len(watch.workers_seen)} (replaced past WEB_MAX_RSS_MIB: "
        f"{max(0, len(watch.workers_seen) - len(watch.snapshots[0].workers))}); "
        f"PostgreSQL at most {watch.pg_max[0]} backends, RSS total at most "
        f"{mib(watch.pg_max[1])}")
    return lines


# --- the consoles --------------------------------------------------------------------------


@dataclass
class Load:
    status: dict[str, dict[int, int]] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    late: int = 0  # polls sent more than a period after they were due
    # call id -> (rung at, host, {console index: when its calls list first showed it})
    rings: dict[str, tuple[float, str, dict[int, float]]] = field(default_factory=dict)

    def reset(self) -> None:
        self.status.clear()
        self.latency.clear()
        self.errors.clear()
        self.late = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def console(index: int, c: Console, port: int, load: Load, stop: asyncio.Event,
                  etags: dict[str, str]) -> None:
    """One browser on /console/: one keep-alive connection, each region's poll when due."""
    conn = Conn(port)
    await asyncio.sleep(random.random())
    due = {path: time.monotonic() for path, _ in POLLS}
    while not stop.is_set():
        for path, every in POLLS:
            now = time.monotonic()
            if now < due[path]:
                continue
            if now - due[path] > every:
                load.late += 1
            # A browser's timer does not catch up on missed beats: the next one is a
            # period after this one.
            due[path] = max(due[path] + every, now + every / 2)
            headers = {"Host": c.host, "Cookie": c.cookie, "HX-Request": "true"}
            if etags.get(path):
                headers["If-None-Match"] = etags[path]
            t0 = time.monotonic()
            try:
                status, head, body = await conn.request("GET", path, headers)
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
                load.error(f"{path}: {type(exc).__name__}")
                await asyncio.sleep(1)
                continue
            load.latency.setdefault(path, []).append((time.monotonic() - t0) * 1000)
            counts = load.status.setdefault(path, {})
            counts[status] = counts.get(status, 0) + 1
            if status == 200:
                etags[path] = head.get("etag", "")
                if path == "/console/calls/":
                    text = body.decode()
                    for call_id, (_, host, seen) in load.rings.items():
                        if host == c.host and index not in seen and call_id in text:
                            seen[index] = time.time()
            elif status != 304:
                etags.pop(path, None)
                load.error(f"{path}: HTTP {status}")
        await asyncio.sleep(max(0.0, min(due.values()) - time.monotonic()))
    conn.close()


async def ringer(port: int, hosts: list[str], every: float, load: Load,
                 stop: asyncio.Event) -> None:
    """A call rings in one live Pemda after another, as their PBXs would post it."""
    conn = Conn(port)
    n = 0
    while not stop.is_set():
        host = hosts[n % len(hosts)]
        call_id = f"scale-{n}-{uuid.uuid4().hex[:8]}"
        load.rings[call_id] = (time.time(), host, {})
        try:
            status = await ring(port, host, call_id, f"+6281399{n:05d}", conn)
            if status not in (200, 201):
                load.error(f"PBX ringing: HTTP {status}")
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            load.error(f"PBX ringing: {type(exc).__name__}")
        n += 1
        try:
            await asyncio.wait_for(stop.wait(), every)
        except TimeoutError:
            pass
    conn.close()


async def visit_hosts(port: int, hosts: list[str], rounds: int, load: Load) -> float:
    """Every host, `rounds` times, each on a new connection so the requests spread over
    the workers: each worker's host→tenant cache ends up holding (nearly) all of them."""
    t0 = time.monotonic()
    queue = [h for _ in range(rounds) for h in hosts]
    random.shuffle(queue)

    async def visitor() -> None:
        while queue:
            host = queue.pop()
            conn = Conn(port)
            try:
                status, _, _ = await conn.request("GET", "/healthz/", {"Host": host,
                                                                       "Connection": "close"})
                if status != 200:
                    load.error(f"/healthz/ on every host: HTTP {status}")
            except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
                load.error(f"/healthz/ on every host: {type(exc).__name__}")
            conn.close()

    await asyncio.gather(*(visitor() for _ in range(8)))
    return time.monotonic() - t0


def load_lines(load: Load, seconds: float, consoles: int) -> list[str]:
    total = sum(sum(v.values()) for v in load.status.values())
    not_modified = sum(v.get(304, 0) for v in load.status.values())
    every = [ms for v in load.latency.values() for ms in v]
    expected = consoles * sum(1 / e for _, e in POLLS) * seconds
    lines = [f"answers: {total} in {seconds:.0f} s ({total / seconds:.0f} req/s, "
             f"{total / expected * 100:.0f}% of the polls the consoles wanted; "
             f"late polls {load.late}); 304 share {not_modified / max(1, total) * 100:.1f}%; "
             f"all: p50 {pct(every, 50) if every else 0:.1f} ms, "
             f"p95 {pct(every, 95) if every else 0:.1f} ms"]
    for path, _ in POLLS:
        counts = load.status.get(path, {})
        ms = load.latency.get(path, [])
        share = counts.get(304, 0) / max(1, sum(counts.values())) * 100
        lines.append(f"  {path:<20} {dict(sorted(counts.items()))}, 304 {share:.1f}%; "
                     f"p50 {pct(ms, 50) if ms else 0:.1f} ms, p95 {pct(ms, 95) if ms else 0:.1f}"
                     f" ms, max {max(ms) if ms else 0:.0f} ms")
    return lines


def ring_line(load: Load, per_host: dict[str, int]) -> str:
    arrived, missing = [], 0
    for t0, host, seen in load.rings.values():
        arrived += [(t - t0) * 1000 for t in seen.values()]
        missing += per_host.get(host, 0) - len(seen)
    return (f"ringing calls: {len(load.rings)} rung; on their Pemda's consoles after "
            f"{describe(arrived)}; never shown: {missing}")


# --- the run -------------------------------------------------------------------------------


async def drive(consoles: list[Console], hosts: list[str], every_host: list[str], port: int,
                watch: MemoryWatch, meter: CpuMeter, seconds: float, ring_every: float,
                log: Path) -> None:
    load = Load()
    stop, stop_watch = asyncio.Event(), asyncio.Event()
    watch.sample("start")
    watcher = asyncio.create_task(watch.run(stop_watch))
    # Before the consoles, on an idle server: the growth to the next sample is the
    # host→tenant caches (and whatever else a first request per Pemda leaves).
    visited = await visit_hosts(port, every_host, 8, load)
    out(f"visited all {len(every_host)} hosts 8 times (/healthz/, a new connection each) in "
        f"{visited:.0f} s")
    watch.sample("hosts visited")
    etags: list[dict[str, str]] = [{} for _ in consoles]
    t0 = time.monotonic()
    tasks = [asyncio.create_task(console(i, c, port, load, stop, etags[i]))
             for i, c in enumerate(consoles)]
    # Warm-up: until every console shows every region once (cold workers are slow).
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not all(len(e) == len(POLLS) for e in etags):
        await asyncio.sleep(0.5)
    ready = sum(len(e) == len(POLLS) for e in etags)
    out(f"warm-up: {ready} of {len(consoles)} consoles showed every region after "
        f"{time.monotonic() - t0:.0f} s; errors meanwhile {dict(load.errors) or 'none'}")
    watch.sample("after warm-up")
    load.reset()
    cpu_a = meter.sample()
    ringing = asyncio.create_task(ringer(port, hosts, ring_every, load, stop))
    await asyncio.sleep(seconds)
    cpu_b = meter.sample()
    measured = dict(load.status), {k: list(v) for k, v in load.latency.items()}, load.late
    stop.set()
    await asyncio.gather(ringing, *tasks)
    watch.sample("end")
    stop_watch.set()
    await watcher
    load.status, load.latency, load.late = measured
    elapsed = cpu_b[3] - cpu_a[3]
    web, pg, own = ((cpu_b[i] - cpu_a[i]) / elapsed * 100 for i in range(3))
    per_host: dict[str, int] = {}
    for c in consoles:
        per_host[c.host] = per_host.get(c.host, 0) + 1
    for line in load_lines(load, elapsed, len(consoles)):
        out(line)
    out(ring_line(load, per_host))
    answers = sum(sum(v.values()) for v in load.status.values())
    per_answer = (cpu_b[0] - cpu_a[0]) * 1000 / max(1, answers)
    out(f"server CPU while measured: web server {web:.0f}% ({per_answer:.2f} ms an answer), "
        f"PostgreSQL backends {pg:.0f}%, load generator {own:.0f}% (100% = one "
        f"core of {os.cpu_count()}; load average now {os.getloadavg()[0]:.1f})")
    for line in memory_lines(watch):
        out(line)
    server_errors = [line for line in log.read_text(errors="replace").splitlines()
                     if "Traceback" in line or '"level": "ERROR"' in line
                     or "[ERROR]" in line or "[CRITICAL]" in line]
    out(f"errors: {dict(sorted(load.errors.items())) or 'none'} (the whole run); server "
        f"log: {len(server_errors)} error lines")
    for line in server_errors[:5]:
        out(f"  {line[:400]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pemda", type=int, default=514)
    parser.add_argument("--live", type=int, default=50)
    parser.add_argument("--consoles-per-pemda", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--ring-every", type=float, default=3.0,
                        help="seconds between two ringing calls (one Pemda after another)")
    parser.add_argument("--keep", action="store_true", help="leave the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    args = parser.parse_args()
    started = time.monotonic()
    # The ORM reads between awaits (backends, the caches) are plain blocking calls in
    # this single-purpose process.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # The sessions made here must read back on the server: one secret key for both.
    os.environ["SECRET_KEY"] = server_env()["SECRET_KEY"]
    # Not a line per provisioned Pemda between the figures.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    out(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    with bench_database(DB_NAME, keep=args.keep or args.reuse, reuse=args.reuse):
        from django.db import connection

        t0 = time.monotonic()
        if args.reuse:
            consoles, hosts = consoles_kept()
        else:
            consoles, hosts = build_nation(args.pemda, args.live, args.consoles_per_pemda)
        every_host = all_hosts()
        out(f"{len(every_host)} Pemda provisioned, {len(hosts)} live, {len(consoles)} consoles "
            f"({time.monotonic() - t0:.0f} s)")
        out("per-process caches, filled for every host and every live Pemda's PBX key "
            "(measured in this process):")
        for line in cache_growth(every_host, hosts):
            out(line)
        dbname = connection.settings_dict["NAME"]
        connection.close()
        env = server_env()  # now with this database's URL
        env.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
        env["LOG_LEVEL"] = os.environ.get("BENCH_LOG_LEVEL", "WARNING")
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
            log = Path(tmp) / "web.log"
            server = WebServer("siaga112.wsgi:application", env, free_port(), log)
            try:
                out("web server (siaga112.webserver, granian): "
                    f"{len(MemoryWatch(server.proc.pid, dbname).sample().workers)} workers, "
                    f"production settings")
                asyncio.run(drive(consoles, hosts, every_host, server.port,
                                  MemoryWatch(server.proc.pid, dbname),
                                  CpuMeter(server.proc.pid, dbname), args.seconds,
                                  args.ring_every, log))
            finally:
                server.stop()
                connection.close()
    out(f"load average at the end {os.getloadavg()[0]:.1f}; the whole benchmark took "
        f"{time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
