"""A throwaway database for a benchmark, and Django set up on it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bench_database(name: str, *, keep: bool = False, reuse: bool = False) -> Iterator[None]:
    """Create `name` on the server of DATABASE_URL (default: PostgreSQL on
    127.0.0.1, else the embedded one), set Django up on it, drop it afterwards.
    `keep` leaves it in place afterwards and `reuse` opens the one a kept run left,
    so a benchmark whose data takes long to build can be re-measured cheaply."""
    import psycopg
    from siaga112 import embedded

    # Sessions benchmarking side by side on one server each name theirs
    # (BENCH_DATABASE_SUFFIX=_alice): the database is dropped WITH (FORCE) first.
    name += os.environ.get("BENCH_DATABASE_SUFFIX", "")

    admin_url = os.environ.get("DATABASE_URL") or (
        "postgresql://postgres@127.0.0.1:5432/postgres"
        if embedded.tcp_answers("127.0.0.1", 5432)
        else embedded.embedded_postgres_url("postgres")
    )
    base, _, query = admin_url.partition("?")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if reuse:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                [name]).fetchone():
                raise SystemExit(f"--reuse: no kept database {name}; run with --keep first")
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    os.environ.setdefault("SIAGA112_DEBUG", "1")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/11")
    os.environ["DJANGO_SETTINGS_MODULE"] = "siaga112.settings"
    import django

    django.setup()
    try:
        yield
    finally:
        from django.db import connection

        connection.close()
        if not keep:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
