"""Benchmark: call intake through the production server against the same writes as
raw SQL, in one run on one machine.

Builds a private database (`siaga112_bench_intake`, dropped afterwards) with one
Pemda, a PBX key and a signed-in operator; starts the production web server (siaga112.webserver)
in production settings; then, for each round:

1. the load generator's ceiling: wrk against a trivial WSGI app on the same server
   config (so the generator is shown not to be the bottleneck);
2. PBX `ringing` events (POST /api/pbx/events/, a new call id each) with wrk,
   16 connections;
3. the same writes as raw SQL (a call row and its ringing event row, one
   transaction) with pgbench, 16 clients;
4. incidents created over the API (POST /incidents/ as JSON, a session and CSRF
   token, a new idempotency key and a new place each, so no duplicate offer);
5. the same writes as raw SQL (the incident row and its timeline row) with pgbench.

Prints req/s, p50/p99 and the ratio app/raw per round, then the best and the spread.
Asserts nothing about time.

    make bench     # or: .venv/bin/python -m tests.perf.bench_intake [ROUNDS] [SECONDS]
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.perf.benchdb import bench_database


def say(*parts: object) -> None:
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 16
CSRF = "benchCsrfSecretbenchCsrfSecret12"  # 32 characters, as Django's secret
HOST = "dairi.localhost"


@dataclass
class Figure:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int = 0
    cpu_ms: float = 0.0  # server CPU (all web server processes) per request


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (the web workers)."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def measured(server: WebServer, run: Callable[[], Figure], seconds: int) -> Figure:
    before = tree_cpu(server.proc.pid)
    figure = run()
    used = tree_cpu(server.proc.pid) - before
    figure.cpu_ms = used * 1000 / max(1.0, figure.rps * seconds)
    return figure


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the world ---------------------------------------------------------------------------


@dataclass
class World:
    schema: str
    pbx_key: str
    session: str
    category: str
    call_columns: list[str]


def build_world() -> World:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django_tenants.utils import schema_context

    from accounts.models import Role, User
    from incidents.models import Category
    from incidents.services import pbx
    from tenants.models import Region, Tenant
    from tenants.services import public_tenant_ensure, regions_load, tenant_provision

    call_command("migrate_all", verbosity=0)
    regions_load()
    public_tenant_ensure()
    region = Region.objects.get(name="Kabupaten Dairi")
    tenant_provision(region=region)
    tenant = Tenant.objects.get(region=region)
    assert f"dairi.{settings.BASE_DOMAIN}" == HOST
    with schema_context(tenant.schema_name):
        _cred, key = pbx.pbx_credential_create(name="bench PBX", actor=None)
        user = User.objects.create_user("bench.operator", password="Bench-op-112!",
                                        role=Role.CALL_TAKER, display_name="Bench")
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        category = Category.objects.filter(active=True).order_by("pk").first()
        assert category is not None, "the tenant template has no categories"
        return World(tenant.schema_name, key, str(store.session_key), category.code, [])


# --- load generators -----------------------------------------------------------------------

RINGING_LUA = r"""
local counter = 0
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args) prefix = args[1]; key = args[2] end
function request()
  counter = counter + 1
  local body = string.format(
    '{"event":"ringing","call_id":"%s-%d-%d","caller":"0812%08d","trunk":"BENCH"}',
    prefix, tid, counter, (tid * 1000000 + counter) % 100000000)
  return wrk.format("POST", "/api/pbx/events/", {
    ["Host"] = "HOST", ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key}, body)
end
"""

INCIDENT_LUA = r"""
local counter = 0
local n = 0
function setup(thread) n = n + 1; thread:set("tid", n) end
function init(args) prefix = args[1]; session = args[2]; csrf = args[3]; category = args[4];
  base = tonumber(args[5]) end
function request()
  counter = counter + 1
  -- A new place each time (>= 1 km apart), so no incident is offered as a duplicate.
  local cell = base + tid * 200000 + counter
  local lat = -10 + (cell % 1500) * 0.01
  local lng = 95 + math.floor(cell / 1500) * 0.01
  local body = string.format(
    '{"category":"%s","description":"bench","latitude":%.4f,"longitude":%.4f,' ..
    '"idempotency_key":"%s-%d-%d"}', category, lat, lng, prefix, tid, counter)
  return wrk.format("POST", "/incidents/", {
    ["Host"] = "HOST", ["Content-Type"] = "application/json",
    ["Accept"] = "application/json", ["X-CSRFToken"] = csrf,
    ["Cookie"] = "sessionid=" .. session .. "; csrftoken=" .. csrf}, body)
end
"""

TRIVIAL_APP = """
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
"""

_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, seconds: int, script: Path | None = None, args: list[str] | None = None
        ) -> Figure:
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout  # noqa: S603
    latency = {m.group(1): _ms(m.group(2), m.group(3)) for m in _LATENCY.finditer(out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    return Figure(rps, latency.get("50", 0.0), latency.get("99", 0.0), errors)


def pgbench(dsn: str, script: str, seconds: int, workdir: Path) -> Figure:
    path = workdir / "raw.sql"
    path.write_text(script)
    cmd = ["pgbench", "-n", "-M", "prepared", f"-c{CONNECTIONS}", "-j2", f"-T{seconds}",
           "-f", str(path), "-r", "--log", "--log-prefix", str(workdir / "pgb"), dsn]
    for old in workdir.glob("pgb.*"):
        old.unlink()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True,  # noqa: S603
                         cwd=workdir).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    latencies = sorted(int(line.split()[2]) / 1000.0 for log in workdir.glob("pgb.*")
                       for line in log.read_text().splitlines() if line.strip())
    p50 = latencies[len(latencies) // 2] if latencies else 0.0
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0
    failed = int(m.group(1)) if (m := re.search(r"number of failed transactions: (\d+)", out)) else 0
    return Figure(tps, p50, p99, failed)


def raw_ringing_sql(schema: str) -> str:
    # The rows a ringing event leaves, written the plainest way: one transaction,
    # the call and its event, as the service does for a new call.
    return f"""
BEGIN;
INSERT INTO "{schema}".incidents_call (external_id, caller, trunk, state, call_type,
  ringing_at, is_test, blocked, aml_source)
  VALUES (gen_random_uuid()::text, '+62812' || (random() * 1e8)::int, 'BENCH', 'ringing', '',
  now(), false, false, '') RETURNING id AS call_id \\gset
INSERT INTO "{schema}".incidents_pbxevent (call_id, event, at, received_at)
  VALUES (:call_id, 'ringing', now(), now());
COMMIT;
"""


def raw_incident_sql(schema: str, category_id: int, user_id: int) -> str:
    return f"""
BEGIN;
INSERT INTO "{schema}".incidents_incident (reference, category_id, priority, status, latitude,
  longitude, address, kecamatan, kelurahan, outside_area, description, caller, is_test,
  idempotency_key, created_by_id, created_at)
  VALUES ('RAW-' || gen_random_uuid()::text, {category_id}, 2, 'open', -6.2, 106.8, '', '', '',
  false, 'bench', '', false, gen_random_uuid()::text, {user_id}, now()) RETURNING id AS inc \\gset
INSERT INTO "{schema}".incidents_timelineentry (incident_id, kind, actor_id, actor_name, at, data)
  VALUES (:inc, 'created', {user_id}, 'Bench', now(), '{{"category": "x"}}');
COMMIT;
"""


# --- the server ------------------------------------------------------------------------------


class WebServer:
    """The production web server (siaga112.webserver) serving `app` on a free port."""

    def __init__(self, app: str, env: dict[str, str], port: int, log: Path,
                 cwd: Path = ROOT) -> None:
        from siaga112 import webserver

        self.port = port
        self.log = log
        self.command = webserver.command(port, "127.0.0.1", app, environ=env)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603
                self.command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the web server exited: " + log.read_text()[-3000:])
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz/",
                                                 headers={"Host": HOST})
                with urllib.request.urlopen(request, timeout=5):  # noqa: S310
                    return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("the web server did not answer: " + log.read_text()[-3000:])

    def shape(self) -> str:
        """Its processes and threads, as siaga112.webserver chose them."""
        def value(flag: str) -> str:
            return self.command[self.command.index(flag) + 1]

        return f"{value('--workers')} workers x {value('--blocking-threads')} threads"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update({
        # Production settings, minus TLS (the benchmark speaks plain HTTP on loopback).
        "SIAGA112_DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "INFO"),
        "DJANGO_SETTINGS_MODULE": "siaga112.settings",
        # Our own limits would cut the benchmark short; the per-key counting still runs.
        "SIAGA112_PBX_REQUESTS_PER_KEY": "100000000/60",
    })
    return env


def _fmt(f: Figure) -> str:
    bad = f", {f.errors} errors" if f.errors else ""
    cpu = f", server CPU {f.cpu_ms:.1f} ms/req" if f.cpu_ms else ""
    return f"{f.rps:8.0f} req/s  p50 {f.p50_ms:6.1f} ms  p99 {f.p99_ms:6.1f} ms{bad}{cpu}"


def main(rounds: int = 3, seconds: int = 10) -> None:
    if shutil.which("wrk") is None or shutil.which("pgbench") is None:
        sys.exit("bench_intake needs wrk and pgbench (apt-get install wrk postgresql-client)")
    with bench_database("siaga112_bench_intake"):
        _run(rounds, seconds)


def _run(rounds: int, seconds: int) -> None:
    from django.db import connection
    from django_tenants.utils import schema_context

    from accounts.models import User
    from incidents.models import Call, Category, Incident

    world = build_world()
    with schema_context(world.schema):
        category_id = Category.objects.get(code=world.category).pk
        user_id = User.objects.get(username="bench.operator").pk
    dsn = os.environ["DATABASE_URL"]
    env = server_env()
    results: dict[str, list[Figure]] = {k: [] for k in
                                        ("ceiling", "ringing", "ringing_raw", "incident",
                                         "incident_raw")}
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        work = Path(tmp)
        (work / "trivial_app.py").write_text(TRIVIAL_APP)
        ringing_lua = work / "ringing.lua"
        ringing_lua.write_text(RINGING_LUA.replace("HOST", HOST))
        incident_lua = work / "incident.lua"
        incident_lua.write_text(INCIDENT_LUA.replace("HOST", HOST))
        trivial = WebServer("trivial_app:application", env, free_port(), work / "trivial.log",
                           cwd=work)
        try:
            server = WebServer("siaga112.wsgi:application", env, free_port(), work / "web.log")
        except Exception:
            trivial.stop()
            raise
        base = f"http://127.0.0.1:{server.port}"
        try:
            # Warm every worker (imports, connections, caches) before measuring.
            wrk(f"{base}/api/pbx/events/", 2, ringing_lua, ["warm", world.pbx_key])
            wrk(f"{base}/incidents/", 2, incident_lua,
                ["warm", world.session, CSRF, world.category, "900000"])
            for r in range(rounds):
                results["ceiling"].append(wrk(f"http://127.0.0.1:{trivial.port}/", seconds))
                results["ringing"].append(measured(server, lambda r=r: wrk(
                    f"{base}/api/pbx/events/", seconds, ringing_lua, [f"r{r}", world.pbx_key]),
                    seconds))
                results["ringing_raw"].append(pgbench(dsn, raw_ringing_sql(world.schema),
                                                      seconds, work))
                results["incident"].append(measured(server, lambda r=r: wrk(
                    f"{base}/incidents/", seconds, incident_lua,
                    [f"r{r}", world.session, CSRF, world.category, str(r * 400000)]),
                    seconds))
                results["incident_raw"].append(pgbench(
                    dsn, raw_incident_sql(world.schema, category_id, user_id), seconds, work))
                say(f"round {r + 1}/{rounds}:")
                for name, figures in results.items():
                    say(f"  {name:<13} {_fmt(figures[-1])}")
        finally:
            shape = server.shape()
            server.stop()
            trivial.stop()
            log = (work / "web.log").read_text().splitlines()
            errors = [line for line in log if "Traceback" in line or '"level": "ERROR"' in line]
            for line in [line for line in log if '"level": "ERROR"' in line][:3]:
                say("server error:", line[:600])
    with schema_context(world.schema):
        calls, incidents = Call.objects.count(), Incident.objects.count()
    connection.set_schema_to_public()
    say(f"\nintake, {rounds} rounds of {seconds} s, {CONNECTIONS} connections, web server "
          f"(siaga112.webserver: granian) {shape}, PostgreSQL "
          f"{connection.pg_version // 10000}, {os.cpu_count()} cores; rows written: "
          f"{calls} calls, {incidents} incidents; server errors logged: {len(errors)}")
    say(f"load generator ceiling (wrk, trivial WSGI app): best "
          f"{max(f.rps for f in results['ceiling']):.0f} req/s")
    for app, raw in (("ringing", "ringing_raw"), ("incident", "incident_raw")):
        ratios = [a.rps / b.rps for a, b in zip(results[app], results[raw], strict=True)]
        best = max(range(rounds), key=lambda i: ratios[i])
        a, b = results[app][best], results[raw][best]
        say(f"{app:<9} app {_fmt(a)} | raw SQL {_fmt(b)} | ratio {ratios[best]:.2f} "
              f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)}; app p99 "
              f"{min(f.p99_ms for f in results[app]):.1f}-"
              f"{max(f.p99_ms for f in results[app]):.1f} ms)")
    say(json.dumps({k: [f.__dict__ for f in v] for k, v in results.items()}))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
