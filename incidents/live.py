"""Per-Pemda change counters for the live consoles.

A console polls its fragment every second; almost every poll finds nothing new. Each
write that changes what a console shows (a call, an incident, a dispatch) bumps its
Pemda's counter of that kind after commit; a poll compares the counters it was served
with the current ones (its ETag) and gets 304 without reading the tables.

Counters live in Redis (one INCR per kind and transaction). When Redis does not
answer, they fall back to a PostgreSQL sequence per kind in the Pemda's schema
(nextval is not transactional and touches no table); the two sources tag their values
differently, so a value from one never matches a value from the other. A bump that
could not reach Redis is replayed by the process at its next successful Redis call,
and the consoles' ETags also change every five minutes (views.live), so a lost bump
shows at most that late.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction

from tenants.db import current_schema

logger = logging.getLogger(__name__)

CALLS = "calls"
INCIDENTS = "incidents"
DISPATCHES = "dispatches"
# Who of the call-takers is available or away (incidents.services.presence): the
# ringing routing and the supervisor's presence board read it.
PRESENCE = "presence"
KINDS = (CALLS, INCIDENTS, DISPATCHES, PRESENCE)
# The PostgreSQL fallback: one sequence per kind in each Pemda schema (migration 0003).
SEQUENCES = {kind: f"incidents_live_{kind}" for kind in KINDS}
# last_value is the start value both before and after the first nextval: is_called
# tells the two apart.
_READ_SEQUENCES = (
    "SELECT (SELECT last_value + is_called::int FROM incidents_live_calls),"
    " (SELECT last_value + is_called::int FROM incidents_live_incidents),"
    " (SELECT last_value + is_called::int FROM incidents_live_dispatches),"
    " (SELECT last_value + is_called::int FROM incidents_live_presence)"
)

# A missing key (Redis restarted empty) starts from the clock, never from 1, so a
# value a console was served before the restart is not handed out again. The new value
# is published on the Pemda's channel in the same call (the pushed consoles,
# incidents.stream): "<kind> <counter>", nothing a console is not allowed to know.
_BUMP = """
if redis.call('exists', KEYS[1]) == 0 then redis.call('set', KEYS[1], ARGV[1]) end
local value = redis.call('incr', KEYS[1])
-- %.0f: Lua would write a counter seeded from the clock as 1.79e+15.
redis.call('publish', KEYS[2], ARGV[2] .. ' ' .. string.format('%.0f', value))
return value
"""
# After a failure, Redis is not asked again for this long (per process): a poll must
# not wait for a connect timeout while Redis is away.
_RETRY_AFTER = 5.0

_state = threading.local()
_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_down_until = 0.0
# (schema, kind) bumps that only reached PostgreSQL, replayed into Redis later.
_unsent: set[tuple[str, str]] = set()


def _redis() -> redis.Redis | None:
    if time.monotonic() < _down_until:
        return None
    url = settings.REDIS_URL.replace("redis+socket://", "unix://", 1)
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=0.3, socket_connect_timeout=0.3)
        _clients[url] = client
    return client


def _redis_failed() -> None:
    global _down_until
    _down_until = time.monotonic() + _RETRY_AFTER
    logger.warning("live.redis_unavailable")


def _key(schema: str, kind: str) -> str:
    return f"siaga112:live:{schema}:{kind}"


# One channel per Pemda schema; the events server subscribes to the pattern once per
# process (incidents.stream). Pub/sub ignores Redis's database number, so the prefix
# carries it: two deployments (or test runs) sharing one Redis on different databases
# with the same schema names must not wake each other's consoles.
def channel_prefix() -> str:
    return _prefix_for(settings.REDIS_URL)


@functools.lru_cache(maxsize=8)
def _prefix_for(url: str) -> str:
    db = redis.connection.parse_url(url.replace("redis+socket://", "unix://", 1)).get("db", 0)
    return f"siaga112:live:events:{db}:"


def channel(schema: str) -> str:
    return channel_prefix() + schema


def _seed() -> int:
    return time.time_ns() // 1000


_scripts: dict[int, Any] = {}


def _send(client: redis.Redis, pairs: list[tuple[str, str]]) -> None:
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_BUMP)
    if len(pairs) == 1:
        # The usual case (one PBX event, one kind): one EVALSHA, one round trip; a
        # pipeline would first ask SCRIPT EXISTS.
        (schema, kind), = pairs
        script(keys=[_key(schema, kind), channel(schema)], args=[_seed(), kind])
        return
    pipe = client.pipeline(transaction=False)
    for schema, kind in pairs:
        script(keys=[_key(schema, kind), channel(schema)], args=[_seed(), kind],
               client=pipe)
    pipe.execute()


def _bump_now(schema: str, kinds: set[str]) -> None:
    client = _redis()
    if client is not None:
        with _lock:
            pending = set(_unsent)
        try:
            _send(client, [(schema, k) for k in kinds] + sorted(pending))
        except redis.RedisError:
            _redis_failed()
        else:
            with _lock:
                _unsent.difference_update(pending)
            return
    with _lock:
        _unsent.update((schema, k) for k in kinds)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join("nextval(%s)" for _ in kinds),
            [f"{connection.ops.quote_name(schema)}.{SEQUENCES[k]}" for k in sorted(kinds)],
        )


def _flush() -> None:
    pending: dict[str, set[str]] = getattr(_state, "pending", {})
    _state.pending = {}
    for schema, kinds in pending.items():
        try:
            _bump_now(schema, kinds)
        except Exception:  # a counter must never fail the write that committed
            logger.exception("live.bump_failed", extra={"schema": schema})


def changed(*kinds: str) -> None:
    """What the consoles show of `kinds` changed in the current Pemda: bump the
    counters once the transaction commits (at once outside one). Several writes in one
    transaction make one bump."""
    schema = current_schema()
    if not schema or schema == "public":
        return
    pending: dict[str, set[str]] = getattr(_state, "pending", None) or {}
    _state.pending = pending
    pending.setdefault(schema, set()).update(kinds)
    # Registered on every call: a rolled-back transaction drops its callback but not
    # our pending set, and the next write's callback then carries it (one spare bump).
    transaction.on_commit(_flush)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return "-"
    return value.decode() if isinstance(value, bytes) else value


def redis_versions(schema: str, kinds: Iterable[str], *, beat: int | None = None) -> str | None:
    """The counters of `kinds` in `schema` from Redis only (None if it does not answer):
    what the early 304 uses, before any database work. With `beat` (a user id), the
    same round trip records that user's heartbeat (see `heartbeat`)."""
    client = _redis()
    if client is None:
        return None
    try:
        if beat is None:
            values = client.mget([_key(schema, k) for k in sorted(kinds)])
        else:
            pipe = client.pipeline(transaction=False)
            pipe.mget([_key(schema, k) for k in sorted(kinds)])
            _beat(pipe, schema, beat)
            values = pipe.execute()[0]
    except redis.RedisError:
        _redis_failed()
        return None
    return "r" + ".".join(_text(v) for v in values)


# --- call-takers' heartbeats (presence) ---------------------------------------------------

# Kept well beyond any Pemda's presence timeout: the value (the last poll's time) is
# what incidents.services.presence compares with the Pemda's setting.
HEARTBEAT_KEEP_SECONDS = 6 * 3600


def _heartbeat_key(schema: str, uid: int) -> str:
    return f"siaga112:presence:{schema}:{uid}"


def _beat(client: Any, schema: str, uid: int) -> None:
    client.set(_heartbeat_key(schema, uid), int(time.time()), ex=HEARTBEAT_KEEP_SECONDS)


def heartbeat(schema: str, uid: int) -> None:
    """This user's page polled just now (the ringing watcher, on every tenant page)."""
    client = _redis()
    if client is None:
        return
    try:
        _beat(client, schema, uid)
    except redis.RedisError:
        _redis_failed()


def heartbeats(schema: str, uids: list[int]) -> dict[int, int | None] | None:
    """When each user last polled (epoch seconds, None if never or long ago); None
    when Redis does not answer (then nobody's heartbeat is known to have stopped)."""
    client = _redis()
    if client is None or not uids:
        return None if client is None else {}
    try:
        values = client.mget([_heartbeat_key(schema, u) for u in uids])
    except redis.RedisError:
        _redis_failed()
        return None
    return {u: int(v) if v is not None else None for u, v in zip(uids, values, strict=True)}


def versions(kinds: Iterable[str]) -> str | None:
    """The current counters of `kinds` in this Pemda as one string, or None when
    neither Redis nor PostgreSQL answers."""
    schema = current_schema()
    ordered = sorted(kinds)
    found = redis_versions(schema, ordered)
    if found is not None:
        return found
    try:
        with connection.cursor() as cursor:
            cursor.execute(_READ_SEQUENCES)
            row = dict(zip(KINDS, cursor.fetchone(), strict=True))
    except Exception:
        logger.exception("live.versions_failed")
        return None
    return "p" + ".".join(str(row[k]) for k in ordered)


# --- who a console's session was last served for (the early 304) ---------------------------


def _scope_key(host: str, session_key: str) -> str:
    return f"siaga112:live:scope:{host}:{session_key}"


def scope_save(host: str, session_key: str, scope: dict[str, Any], seconds: int) -> None:
    client = _redis()
    if client is None:
        return
    try:
        client.set(_scope_key(host, session_key), json.dumps(scope), ex=seconds)
    except redis.RedisError:
        _redis_failed()


def scope_load(host: str, session_key: str) -> dict[str, Any] | None:
    client = _redis()
    if client is None:
        return None
    try:
        raw = client.get(_scope_key(host, session_key))
    except redis.RedisError:
        _redis_failed()
        return None
    if raw is None:
        return None
    value = json.loads(raw)
    return value if isinstance(value, dict) else None


def scope_drop(host: str, session_key: str) -> None:
    """Signed out: the session's scope goes at once (not at the end of its minute)."""
    client = _redis()
    if client is None:
        return
    try:
        client.delete(_scope_key(host, session_key))
    except redis.RedisError:
        _redis_failed()
