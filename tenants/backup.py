"""Back up one Pemda's schema, and restore it under a fresh schema name.

`pg_dump --schema=<schema>` in plain SQL (no owners, no privileges), taken with the
client that matches the server: the system's PostgreSQL binaries of the server's
major version when installed, else the ones bundled with pgserver (the embedded
server's own). Restore renames the schema in the DDL only — never inside COPY data,
so a row that mentions the schema's name comes back exactly as it was — and replays
the file with the same version's psql in one transaction: all or nothing.

A fresh name, not the original: restoring over a live Pemda would be a destructive
choice the operator makes with SQL they can read, after checking the copy
(`siaga112 restore_tenant` says so). The restored schema is not a tenant (no domain):
rows are copied back from it, or it is renamed into place, by hand.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
from pathlib import Path
from typing import IO, Any

from django.db import connection

from core.pgserver import bundled_binary

SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Lines one client version writes and another rejects: psql ≥ 15.14/17.6's `\restrict`
# guard, PostgreSQL 17's transaction_timeout setting; harmless to drop in a restore.
_UNPORTABLE = re.compile(r"^(\\restrict |\\unrestrict |SET transaction_timeout\b)")
_COPY_START = re.compile(r"^COPY .* FROM stdin;$")


class BackupError(RuntimeError):
    pass


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def client_binary(name: str) -> Path:
    """pg_dump/psql of the server's major version: the system's, else pgserver's."""
    major = _server_major()
    system = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if system.exists():
        return system
    bundled = bundled_binary(name)
    if bundled.exists():
        version = subprocess.run(  # noqa: S603
            [str(bundled), "--version"], capture_output=True, text=True, check=False
        ).stdout
        found = re.search(r"\) (\d+)", version)
        if found and int(found.group(1)) == major:
            return bundled
    raise BackupError(f"no {name} for PostgreSQL {major} (install postgresql-client-{major})")


def _connection_args() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    args = ["--dbname", db["NAME"], "--username", db["USER"] or "postgres"]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    env = {"PGPASSWORD": db.get("PASSWORD") or "", "PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
    return args, env


def _check_name(schema: str) -> str:
    if not SCHEMA_NAME.fullmatch(schema):
        raise BackupError(f"invalid schema name {schema!r}")
    return schema


def schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        return cursor.fetchone() is not None


def tenant_backup(*, schema: str, out: IO[str]) -> None:
    """Write the plain-SQL dump of `schema` to `out` (DDL, data, then constraints)."""
    _check_name(schema)
    if not schema_exists(schema):
        raise BackupError(f"no schema {schema!r}")
    args, env = _connection_args()
    cmd = [str(client_binary("pg_dump")), f"--schema={schema}", "--no-owner",
           "--no-privileges", "--format=plain", "--encoding=UTF8", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:300]}")
    out.write(done.stdout)


def renamed_dump(lines: Any, *, source: str, target: str) -> Any:
    """The dump's lines with `source` renamed to `target` outside COPY data, and the
    lines other client versions reject dropped."""
    name = re.compile(rf'(?<![\w$])"?{re.escape(source)}"?(?![\w$])')
    in_copy = False
    for line in lines:
        if in_copy:
            if line.rstrip("\n") == "\\.":
                in_copy = False
            yield line
            continue
        if _UNPORTABLE.match(line):
            continue
        line = name.sub(f'"{target}"', line)
        if _COPY_START.match(line.rstrip("\n")):
            in_copy = True
        yield line


def _source_schema(head: str) -> str:
    found = re.search(r"^CREATE SCHEMA \"?([a-z_][a-z0-9_]*)\"?;$", head, re.M)
    if found is None:
        raise BackupError("not a one-schema dump of siaga112 (no CREATE SCHEMA line)")
    return found.group(1)


def tenant_restore(*, dump: Path, schema: str) -> None:
    """Replay `dump` (from tenant_backup) as the new schema `schema`, atomically."""
    _check_name(schema)
    if schema_exists(schema):
        raise BackupError(f"schema {schema!r} exists already; restore into a fresh name")
    with dump.open(encoding="utf-8") as handle:
        source = _source_schema(handle.read(1 << 20))
    args, env = _connection_args()
    cmd = [str(client_binary("psql")), "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1",
           "--single-transaction", "--file=-", *args]
    with dump.open(encoding="utf-8") as handle:
        psql = subprocess.Popen(  # noqa: S603
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=env,
        )
        assert psql.stdin is not None and psql.stderr is not None
        try:
            for line in renamed_dump(handle, source=source, target=schema):
                psql.stdin.write(line)
        except BrokenPipeError:
            pass  # psql stopped at the first error (ON_ERROR_STOP): its stderr says which
        finally:
            # Closing flushes what is buffered: after psql quit, that raises again.
            with contextlib.suppress(BrokenPipeError):
                psql.stdin.close()
        stderr = psql.stderr.read()
        psql.stderr.close()
        psql.wait()
    if psql.returncode != 0:
        raise BackupError(f"psql failed, nothing restored: {stderr.strip()[:300]}")
