"""Writing the audit trail. Every administrative write calls `record` inside its
own transaction, so the audit row commits with the change and disappears with
it when the change rolls back: there is never a change without its row, nor a
row for a change that did not happen.

This app imports no other product app (it only reads attributes of the actor
and the target), so every app, `tenants` included, may call it.

Wiring a write is one line in most cases:

    with audit.services.tracking(actor=actor, action="agency.updated", target=agency):
        agency.name = name
        agency.save()

or, where the before-image is taken by hand:

    before = snapshot(category)
    ...change and save...
    record(actor=actor, action="category.updated", target=category,
           before=before, after=snapshot(category))
"""

from __future__ import annotations

import contextvars
import datetime as dt
import decimal
import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import models
from django_tenants.utils import schema_context

from audit.actions import ACTIONS
from audit.models import AuditEntry

# Set by audit.middleware for the length of one request; services never see the request.
request_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_request_ip", default=None
)

# Never written to the trail, whatever the caller passes: a changed secret
# shows as changed, not as its value.
SECRET_KEYS = frozenset(
    {"password", "key_hash", "token_hash", "webhook_secret", "secret", "token", "raw_key"}
)
MASK = "•••"


@dataclass(frozen=True)
class Target:
    """What a change touched, when it is not simply a model instance."""

    type: str
    id: str
    label: str


def _target(target: models.Model | Target) -> Target:
    if isinstance(target, Target):
        return target
    return Target(
        type=target._meta.model_name or type(target).__name__.lower(),
        id="" if target.pk is None else str(target.pk),
        label=str(target)[:200],
    )


def _plain(value: Any) -> Any:
    """A JSON-storable value: ids for relations, ISO text for dates."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def snapshot(obj: models.Model | Mapping[str, Any], fields: Iterable[str] | None = None) -> dict:
    """The audited image of a model instance (its concrete fields, relations as
    ids under the field's name) or of a dict, restricted to `fields` if given."""
    if isinstance(obj, Mapping):
        data = {str(k): v for k, v in obj.items()}
    else:
        data = {}
        for field in obj._meta.concrete_fields:
            if field.primary_key:
                continue
            data[field.name] = getattr(obj, field.attname)
    if fields is not None:
        wanted = list(fields)
        data = {k: data.get(k) for k in wanted}
    return {k: _fingerprint(v) if k in SECRET_KEYS else _plain(v) for k, v in data.items()}


def _fingerprint(value: Any) -> str | None:
    """A secret's stand-in inside a snapshot: equal for equal secrets, so a new
    password or key is seen as a change, and never stored (diff masks it)."""
    if value in (None, ""):
        return None
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict, dict]:
    """Only what changed: (before, after) restricted to the keys whose values
    differ. A key missing on one side counts as changed (added or removed).
    Secrets compare by value but are stored masked."""
    changed_before: dict[str, Any] = {}
    changed_after: dict[str, Any] = {}
    for key in dict.fromkeys([*before.keys(), *after.keys()]):
        old = before.get(key)
        new = after.get(key)
        if key in before and key in after and _plain(old) == _plain(new):
            continue
        if key in before:
            changed_before[key] = _stored(key, old)
        if key in after:
            changed_after[key] = _stored(key, new)
    return changed_before, changed_after


def _stored(key: str, value: Any) -> Any:
    if key in SECRET_KEYS:
        return None if value in (None, "") else MASK
    return _plain(value)


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | Target,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry | None:
    """Append one audit row in the current schema, in the caller's transaction.

    With `before` or `after` given, only changed fields are kept and nothing is
    written when nothing changed (a form saved as it was). With neither, the
    row records an event (a key revoked, a block lifted)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}: add it to audit/actions.py")
    if before is not None or after is not None:
        old, new = diff(before or {}, after or {})
        if not old and not new:
            return None
    else:
        old, new = {}, {}
    where = _target(target)
    is_person = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEntry.objects.create(
        actor_id=actor.pk if is_person else None,
        actor_username=(actor.get_username() if is_person else "")[:150],
        actor_role=(str(getattr(actor, "role", "") or "") if is_person else "")[:24],
        action=action,
        target_type=where.type[:64],
        target_id=where.id[:64],
        target_label=where.label[:200],
        before=old,
        after=new,
        ip=ip if ip is not None else request_ip.get(),
    )


def record_public(**kwargs: Any) -> AuditEntry | None:
    """`record` into the public schema's trail from a request on a Pemda host
    (an invitation accepted there is a national event too). Same transaction:
    only the search path changes, and it is restored afterwards."""
    with schema_context("public"):
        return record(**kwargs)


@contextmanager
def tracking(
    *,
    actor: Any,
    action: str | Callable[[dict, dict], str],
    target: models.Model,
    fields: Iterable[str] | None = None,
    created_action: str | None = None,
    image: Callable[[Any], Mapping[str, Any]] | None = None,
) -> Iterator[None]:
    """Snapshot `target` before the block and again after it, and record what
    changed. Nothing is recorded if the block raises (its transaction is being
    rolled back anyway) or changed nothing.

    `action` may be a function of the (before, after) images, e.g. to tell a
    role change from another edit; `created_action` is used instead when the
    target had no primary key before the block (the block created it).
    `image(target)` replaces the snapshot when the audited state reaches beyond
    the row (a responder's agency membership, a category's routing order)."""
    wanted = list(fields) if fields is not None else None

    def take() -> dict:
        return snapshot(image(target) if image is not None else target, wanted)

    creating = target.pk is None or target._state.adding
    before = {} if creating else take()
    yield
    after = take()
    if creating and created_action is not None:
        code = created_action
    elif callable(action):
        code = action(before, after)
    else:
        code = action
    record(actor=actor, action=code, target=target, before=before, after=after)
