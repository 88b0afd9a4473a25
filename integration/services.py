"""Writes of the integration API: API tokens (create, revoke, authenticate),
the provincial feed row of an incident change, idempotency records."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from audit.services import record
from core.errors import DomainError, Invalid
from core.rows import insert_columns
from integration.models import ApiToken, IdempotencyRecord, ProvinceIncidentEvent

logger = logging.getLogger(__name__)

TOKEN_KIND = "s112"
MAX_DAYS = 730
# Writing last_used_at on every request would turn each read into a write.
LAST_USED_EVERY = timedelta(minutes=1)


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class TokenCreated:
    token: ApiToken
    raw: str  # shown once, never stored


@transaction.atomic
def api_token_create(
    *,
    actor: Any,
    name: str,
    scope: str,
    access: str,
    days: int,
    schema_name: str = "",
    province_code: str = "",
) -> TokenCreated:
    """A new token; the caller checks who may create which scope (integration.policies).
    The audit row goes to the current schema's trail (the Pemda's for a tenant
    token, the national one otherwise)."""
    name = (name or "").strip()
    if not name:
        raise Invalid("Give the token a name (who uses it, what for).", field="name")
    if len(name) > 80:
        raise Invalid("The name is too long (80 characters).", field="name")
    if scope not in ApiToken.Scope.values:
        raise Invalid(f"Unknown scope {scope!r}.", field="scope")
    if access not in ApiToken.Access.values:
        raise Invalid(f"Unknown access {access!r}.", field="access")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise Invalid(f"Valid for 1 to {MAX_DAYS} days.", field="days")
    if scope == ApiToken.Scope.TENANT and not schema_name:
        raise Invalid("A tenant token needs its Pemda.", field="schema_name")
    if scope == ApiToken.Scope.PROVINCE and not province_code:
        raise Invalid("Choose the province.", field="province")
    prefix = secrets.token_hex(4)
    raw = f"{TOKEN_KIND}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=name,
        prefix=prefix,
        secret_hash=_hash(raw),
        scope=scope,
        access=access,
        schema_name=schema_name if scope == ApiToken.Scope.TENANT else "",
        province_code=province_code if scope == ApiToken.Scope.PROVINCE else "",
        created_by=(actor.get_username() if actor is not None else "")[:150],
        expires_at=timezone.now() + timedelta(days=days),
    )
    record(
        actor=actor,
        action="api_token.created",
        target=token,
        after={
            "name": token.name,
            "prefix": token.prefix,
            "scope": token.scope,
            "access": token.access,
            "province": token.province_code,
            "expires_at": token.expires_at.isoformat(),
        },
    )
    logger.info("api_token.created", extra={"token": token.prefix, "scope": token.scope})
    return TokenCreated(token, raw)


@transaction.atomic
def api_token_revoke(*, token_id: int, actor: Any, visible: Any) -> ApiToken:
    """Revoke one of the tokens in `visible` (the queryset this actor may manage)."""
    token = visible.select_for_update().filter(pk=token_id).first()
    if token is None:
        raise DomainError("No such token.", status=404)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(actor=actor, action="api_token.revoked", target=token)
        logger.info("api_token.revoked", extra={"token": token.prefix})
    return token


class TokenRejected(DomainError):
    """An Authorization: Bearer header that names no usable token, or a token used
    where its scope does not reach (401)."""

    status = 401
    code: str | None = "invalid_token"


def api_token_authenticate(raw: str, *, now: datetime | None = None) -> ApiToken:
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_KIND or not parts[1]:
        raise TokenRejected("unknown API token")
    token = ApiToken.objects.filter(prefix=parts[1][:16]).first()
    # Compared in constant time; an unknown prefix costs the same hash.
    expected = token.secret_hash if token is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(raw)) or token is None:
        raise TokenRejected("unknown API token")
    now = now or timezone.now()
    state = token.state(now)
    if state == "revoked":
        raise TokenRejected("this API token has been revoked")
    if state == "expired":
        raise TokenRejected(f"this API token expired at {token.expires_at.isoformat()}")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- the provincial feed ------------------------------------------------------

_TENANTS: dict[str, tuple[str, str]] = {}


def _tenant_of(schema_name: str) -> tuple[str, str] | None:
    """(province code, Pemda name) of a schema, cached: a Pemda never changes province."""
    if schema_name not in _TENANTS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT r.parent_id, t.name FROM public.tenants_tenant t "
                "JOIN public.tenants_region r ON r.code = t.region_id "
                "WHERE t.schema_name = %s",
                [schema_name],
            )
            row = cursor.fetchone()
        if row is None or row[0] is None:
            return None
        _TENANTS[schema_name] = (str(row[0]), str(row[1]))
    return _TENANTS[schema_name]


def province_event_publish(
    *,
    schema_name: str,
    incident_id: int,
    reference: str,
    kind: str,
    at: datetime,
    category: str,
    priority: int,
    status: str,
    kecamatan: str,
    latitude: float | None,
    longitude: float | None,
    is_test: bool,
) -> ProvinceIncidentEvent | None:
    """One row of the public feed, in the caller's (the Pemda's) transaction.
    Summary fields only: no caller number, no description, no names."""
    tenant = _tenant_of(schema_name)
    if tenant is None:
        return None  # the template or a schema without a region: nobody follows it
    event = ProvinceIncidentEvent(
        schema_name=schema_name,
        province_code=tenant[0],
        tenant_name=tenant[1],
        incident_id=incident_id,
        reference=reference,
        kind=kind,
        at=at,
        category=category,
        priority=priority,
        status=status,
        kecamatan=kecamatan,
        latitude=latitude,
        longitude=longitude,
        is_test=is_test,
    )
    # A written-once INSERT rather than .create(): every incident and every status change
    # writes one, and the ORM's compilation of it was an eighth of an incident's CPU.
    columns, values = insert_columns(ProvinceIncidentEvent, event, set())
    table = connection.ops.quote_name(ProvinceIncidentEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - names from the model
            f"VALUES ({', '.join(['%s'] * len(values))}) RETURNING id, txid",
            values,
        )
        event.pk, event.txid = cursor.fetchone()
    event._state.adding = False
    event._state.db = "default"
    return event


# --- idempotency ----------------------------------------------------------------


class IdempotencyConflict(DomainError):
    status = 422
    code: str | None = "idempotency_key_reused"
    default_message = "This Idempotency-Key was used with a different request."


def idempotency_lookup(*, schema_name: str, key: str, request_hash: str) -> dict | None:
    """The stored answer for this key, waiting for a concurrent request with the
    same key to finish first (a transaction-scoped advisory lock): the caller
    must be inside transaction.atomic and store its answer before it ends."""
    if not key or len(key) > 128:
        raise Invalid("Idempotency-Key must be 1 to 128 characters.", field="Idempotency-Key")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 112))", [f"{schema_name}:{key}"]
        )
    found = IdempotencyRecord.objects.filter(schema_name=schema_name, key=key).first()
    if found is None:
        return None
    if not hmac.compare_digest(found.request_hash, request_hash):
        raise IdempotencyConflict()
    return dict(found.response)


def idempotency_store(*, schema_name: str, key: str, request_hash: str, response: dict) -> None:
    IdempotencyRecord.objects.create(
        schema_name=schema_name, key=key, request_hash=request_hash, response=response
    )



# --- retention ------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    feed_events: int
    idempotency_records: int


def _delete_older(table: str, column: str, before: datetime, batch_size: int) -> int:
    """Delete `table`'s rows whose `column` is before `before`, `batch_size` rows per
    statement (each its own transaction): a short lock and a small WAL burst each,
    instead of one statement holding a month of the feed."""
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # Oldest ids first: they are the old rows, so the primary key finds a batch
            # without reading the table.
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "  # noqa: S608
                f"WHERE {column} < %s ORDER BY id LIMIT %s)",
                [before, batch_size],
            )
            count = cursor.rowcount
        deleted += count
        if count < batch_size:
            return deleted


def integration_purge(*, now: datetime | None = None, batch_size: int = 5000) -> Purged:
    """Apply the retention periods (settings.SIAGA112): province feed rows older than
    PROVINCE_FEED_RETENTION_DAYS (a partner must read the feed within it) and stored
    Idempotency-Key answers older than IDEMPOTENCY_RETENTION_HOURS (a client retries
    within minutes; after that the key is new again). Both tables are public."""
    from django.conf import settings

    now = now or timezone.now()
    knobs: dict[str, Any] = settings.SIAGA112
    feed = _delete_older(
        ProvinceIncidentEvent._meta.db_table, "at",
        now - timedelta(days=float(knobs["PROVINCE_FEED_RETENTION_DAYS"])), batch_size)
    answers = _delete_older(
        IdempotencyRecord._meta.db_table, "created_at",
        now - timedelta(hours=float(knobs["IDEMPOTENCY_RETENTION_HOURS"])), batch_size)
    logger.info("integration.purged", extra={"feed_events": feed, "idempotency_records": answers})
    return Purged(feed, answers)
