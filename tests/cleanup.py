"""Removing what a test committed to the shared session data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def purging() -> Iterator[None]:
    """Timeline entries (and the row history) are append-only in PostgreSQL: only a
    transaction that first says `SET LOCAL siaga112.purge = 'on'` (the retention
    purge's switch) may delete them, and with them the incidents they belong to."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL siaga112.purge = 'on'")
        yield
