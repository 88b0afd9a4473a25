"""Session engine: Django's database sessions, read with one fixed statement.

Every signed-in request reads its session row; through the ORM that read built, compiled
and converted the same `SELECT … WHERE session_key = %s AND expire_date > %s` each time,
about a sixth of an incident's CPU in the intake profile
(`CPU_INTAKE_PROFILE=incident .venv/bin/python -m tests.perf.cpu_intake`). Here it is
written once. Same table (each Pemda's own schema, by the search path), same expiry
rule, same answer when the row is missing or expired; writes, deletes, key cycling and
the asynchronous read stay Django's own. No cache in front: a session must keep working,
and a signed-out one stay signed out, while Redis is away.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.db import connections, router
from django.utils import timezone


class SessionStore(DBStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        if not self.session_key:
            # The ORM asks `session_key IS NULL` and finds nothing: no round trip for that.
            self._session_key = None
            return None
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data, expire_date FROM {table} "  # noqa: S608 - table name from the model
                "WHERE session_key = %s AND expire_date > %s",
                [self.session_key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
