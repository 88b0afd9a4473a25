"""A PostgreSQL of the test's own (pgserver's binaries, a temp data dir, a free
port) that the test may stop and start at will, and the platform run as a real
server process on it. Never the machine's PostgreSQL: that one others use."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin(name: str) -> str:
    from siaga112 import embedded

    pgserver = embedded.import_pgserver()
    return str(Path(pgserver.__file__).parent / "pginstall" / "bin" / name)


class PrivatePostgres:
    """initdb + pg_ctl in a temp dir of its own. As root, PostgreSQL refuses to run:
    then the server runs as pgserver's unprivileged `pgserver` user, as pgserver does."""

    def __init__(self) -> None:
        import tempfile

        self.root = Path(tempfile.mkdtemp(prefix="siaga112-pg-"))
        self.data = self.root / "pgdata"
        self.sockets = self.root / "sock"
        self.log = self.root / "pg.log"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            from pgserver.utils import ensure_user_exists

            self.user = "pgserver"
            entry = ensure_user_exists(self.user)
            self.root.chmod(0o755)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _server_cmd(self, args: list[str]) -> None:
        subprocess.run(args, check=True, capture_output=True, user=self.user,  # noqa: S603
                       cwd=self.root)

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self._server_cmd(["mkdir", "-p", str(self.sockets)])
        self._server_cmd([_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                          "-E", "UTF8", "--no-sync"])

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.sockets} "
                   "-c fsync=off -c max_connections=60")
        self._server_cmd([_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o",
                          options, "-w", "-t", "30", "start"])

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([_pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30",  # noqa: S603
                        "stop"], check=False, capture_output=True, user=self.user, cwd=self.root)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run([_pg_bin("psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1",  # noqa: S603
                               self.url(database), "-c", sql],
                              check=True, capture_output=True, text=True)
        return done.stdout

    def copy_schemas_from(self, source_url: str, database: str, schemas: list[str]) -> None:
        """pg_dump of `schemas` of the source database, restored into `database` here."""
        self.psql(f'CREATE DATABASE "{database}"')
        args = [_pg_bin("pg_dump"), "--no-owner", "--no-privileges", source_url]
        for schema in schemas:
            args += ["-n", schema]
        dump = subprocess.run(args, check=True, capture_output=True)  # noqa: S603
        # The machine's PostgreSQL stamps columns with an attribute option of its own
        # (pg_attver) that a stock server refuses: leave those lines out.
        script = b"\n".join(line for line in dump.stdout.split(b"\n")
                            if b"SET (pg_attver=" not in line)
        # The dump creates the public schema itself.
        self.psql("DROP SCHEMA public CASCADE", database)
        done = subprocess.run([_pg_bin("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",  # noqa: S603
                               self.url(database)], input=script, capture_output=True)
        assert done.returncode == 0, done.stderr.decode()[-2000:]


def source_url_of(settings_dict: dict[str, object]) -> str:
    port = settings_dict.get("PORT") or 5432
    password = settings_dict.get("PASSWORD") or ""
    host = str(settings_dict["HOST"])
    if host.startswith("/"):
        # The embedded PostgreSQL listens on a socket in its data directory (no server on
        # 127.0.0.1): the same URL form the settings read for it.
        return (f"postgresql://{settings_dict['USER']}:{password}@/{settings_dict['NAME']}"
                f"?host={quote(host, safe='/')}")
    return (f"postgresql://{settings_dict['USER']}:{password}@{host}:{port}/"
            f"{settings_dict['NAME']}")


def http(method: str, url: str, *, host: str, body: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 15,
         ) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


class PlatformServer:
    """`siaga112 runserver` in its own process, with the given environment."""

    def __init__(self, env_extra: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items()
                    if k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
        self.env.update({"SIAGA112_DEBUG": "1", "SIAGA112_DEBUG_PAGES": "0", **env_extra})
        self.log = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, wait_host: str = "localhost") -> None:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "siaga112.cli", "runserver", f"127.0.0.1:{self.port}",
                 "--noreload"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _, _ = http("GET", f"{self.base}/healthz/", host=wait_host, timeout=5)
                if status in (200, 503):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("server did not start: " + self.log.read_text()[-2000:])
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


@contextlib.contextmanager
def private_dairi(tmp_path: Path, key_name: str) -> Iterator[dict[str, Any]]:
    """A private PostgreSQL holding a copy of public + Dairi (with a PBX key made for
    the test in it) and a private Redis, both the test's to stop and start; the key
    is removed from the shared database afterwards. Yields pg, redis, key, schema."""
    from django.db import connection
    from django_tenants.utils import schema_context

    from incidents.services import pbx as services
    from tenants.models import Tenant
    from tests.outbox.conftest import OwnRedis

    dairi = Tenant.objects.get(region__slug="dairi")
    with schema_context(dairi.schema_name):
        cred, raw_key = services.pbx_credential_create(name=key_name, actor=None)
    pg = PrivatePostgres()
    redis_server = OwnRedis(tmp_path)
    try:
        pg.init()
        pg.start()
        pg.copy_schemas_from(source_url_of(connection.settings_dict), "siaga112",
                             ["public", dairi.schema_name])
        redis_server.start()
        yield {"pg": pg, "redis": redis_server, "key": raw_key, "schema": dairi.schema_name}
    finally:
        if redis_server.proc is not None:
            redis_server.stop()
        pg.stop("immediate")
        pg.remove()
        with schema_context(dairi.schema_name):
            type(cred).objects.filter(pk=cred.pk).delete()
