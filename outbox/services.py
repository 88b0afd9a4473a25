"""Writes of the outbox: enqueue (inside the caller's transaction), deliver one
message (claim, send, record the outcome), sweep (re-enqueue what is due in every
Pemda schema). Delivery is at-least-once towards the network and exactly-once
per (receiver, dedupe key) in this table; receivers dedupe on X-Siaga112-Delivery
for the one window left (a worker dying between sending and recording it)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import requests
from celery import Signature, current_app
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from core.errors import DomainError
from core.observability import scrub_text
from outbox.conf import outbox_setting
from outbox.models import OutboxMessage
from outbox.signing import sign
from tenants.db import current_schema
from tenants.selectors import pemda_tenants

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
Channel = OutboxMessage.Channel
MAX_ERROR_CHARS = 1000
USER_AGENT = "Siaga112-Outbox/1"


class OutboxError(ValidationError, DomainError):
    """Bad input to the outbox: a message a person (the Pemda admin who set up
    the receiver) can act on."""


class DeliveryFailed(Exception):
    """The receiver did not take the message (network error, non-2xx)."""


# --- enqueue ---------------------------------------------------------------------------


def _validate(*, channel: str, receiver: str, payload: Any, dedupe_key: str, secret: str) -> None:
    if channel not in Channel.values:
        raise OutboxError(
            _("Unknown notification channel %(channel)s: use email or webhook.")
            % {"channel": channel},
            code="channel",
        )
    if channel == Channel.EMAIL:
        try:
            validate_email(receiver)
        except ValidationError:
            raise OutboxError(
                _("The notification email address is not valid."), code="receiver"
            ) from None
    else:
        try:
            URLValidator(schemes=["http", "https"])(receiver)
        except ValidationError:
            raise OutboxError(
                _("The webhook URL is not valid: it must start with http:// or https://."),
                code="receiver",
            ) from None
        if not secret:
            raise OutboxError(
                _("The webhook has no signing secret: set one before sending to it."),
                code="secret",
            )
    if len(receiver) > 500:
        raise OutboxError(_("The notification receiver is too long (500 characters at most)."),
                          code="receiver")
    if not dedupe_key or len(dedupe_key) > 200:
        raise OutboxError(_("A notification needs a dedupe key of 1 to 200 characters."),
                          code="dedupe_key")
    if not isinstance(payload, dict):
        raise OutboxError(_("A notification payload must be a JSON object."), code="payload")
    try:
        json.dumps(payload, cls=DjangoJSONEncoder)
    except (TypeError, ValueError):
        raise OutboxError(_("The notification payload cannot be written as JSON."),
                          code="payload") from None


# By name, not by import: outbox.tasks calls these services, so importing it back
# would close a cycle. OutboxConfig.ready() registers the task in every process, so
# the signature resolves to it (eager mode included), as `outbox_deliver.delay` did.
DELIVER_TASK = "outbox.deliver"


def _deliver_task(message_id: int) -> Signature:
    return current_app.signature(DELIVER_TASK, args=[message_id])


def _schedule_delivery(message_id: int, schema: str) -> None:
    """After commit: hand the message to a worker. A broker outage must not reach
    the request that already committed; the row stays pending for the sweep."""
    try:
        _deliver_task(message_id).apply_async(
            # The schema the row lives in, fixed now: the commit may happen after
            # the caller has left the tenant's schema_context.
            headers={"_schema_name": schema},
            retry=True,
            retry_policy={
                "max_retries": int(outbox_setting("BROKER_PUBLISH_RETRIES")),
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.2,
            },
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep recovers
        logger.warning(
            "outbox.schedule_failed",
            extra={"message_id": message_id, "schema": schema, "error": type(exc).__name__},
        )


@transaction.atomic
def outbox_enqueue(
    *,
    channel: str,
    receiver: str,
    subject: str,
    payload: dict[str, Any],
    dedupe_key: str,
    secret: str = "",
) -> OutboxMessage:
    """Record a notification in the current tenant's outbox. Call it inside the
    transaction of the change it announces: both commit or neither does. The
    delivery task is sent after commit. The same (receiver, dedupe_key) again
    returns the existing row and sends nothing more."""
    schema = current_schema()
    if schema == get_public_schema_name():
        raise OutboxError(_("Notifications are sent from a Pemda's site, not the national one."),
                          code="schema")
    receiver = receiver.strip()
    _validate(channel=channel, receiver=receiver, payload=payload, dedupe_key=dedupe_key,
              secret=secret)
    message, created = OutboxMessage.objects.get_or_create(
        receiver=receiver,
        dedupe_key=dedupe_key,
        defaults={
            "channel": channel,
            "subject": subject[:255],
            "payload": payload,
            "secret": secret,
        },
    )
    log_extra = {"message_id": message.pk, "channel": message.channel, "schema": schema,
                 "dedupe_key": dedupe_key}
    if not created:
        logger.info("outbox.deduplicated", extra={**log_extra, "status": message.status})
        return message
    transaction.on_commit(partial(_schedule_delivery, message.pk, schema))
    logger.info("outbox.enqueued", extra=log_extra)
    return message


# --- deliver ---------------------------------------------------------------------------


def _due_q(now: datetime, *, grace: float = 0.0) -> Q:
    stale = now - timedelta(seconds=float(outbox_setting("STALE_SENDING_SECONDS")))
    return (
        Q(status=Status.PENDING, next_attempt_at__lte=now - timedelta(seconds=grace))
        | Q(status=Status.FAILED, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, claimed_at__lt=stale)
    )


def outbox_backoff(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: 10 s, 30 s, 90 s … capped."""
    base = float(outbox_setting("BACKOFF_BASE_SECONDS"))
    factor = float(outbox_setting("BACKOFF_FACTOR"))
    cap = float(outbox_setting("BACKOFF_MAX_SECONDS"))
    return timedelta(seconds=min(cap, base * factor ** max(0, attempts - 1)))


def _claim(message_id: int) -> OutboxMessage | None:
    """pending/failed (due) or stale sending -> sending, in a short transaction of
    its own, so no lock is held while talking to the network. SKIP LOCKED: a
    second worker on the same message walks away instead of waiting."""
    with transaction.atomic():
        now = timezone.now()
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(_due_q(now), pk=message_id)
            .first()
        )
        if message is None:
            return None
        message.status = Status.SENDING
        message.claimed_at = now
        message.attempts += 1
        message.save(update_fields=["status", "claimed_at", "attempts"])
        return message


def _email_body(message: OutboxMessage) -> str:
    text = message.payload.get("text") if isinstance(message.payload, dict) else None
    if isinstance(text, str) and text:
        return text
    return "\n".join(f"{key}: {value}" for key, value in message.payload.items())


def _send_email(message: OutboxMessage) -> None:
    # A Message-ID derived from the dedupe key lets mail systems drop a repeat.
    digest = hashlib.sha256(message.dedupe_key.encode("utf-8")).hexdigest()[:32]
    email = EmailMessage(
        subject=message.subject,
        body=_email_body(message),
        to=[message.receiver],
        headers={"X-Siaga112-Delivery": message.dedupe_key,
                 "Message-ID": f"<{digest}@outbox.siaga112>"},
    )
    email.send(fail_silently=False)


def webhook_body(message: OutboxMessage) -> bytes:
    """The exact bytes POSTed (and signed) for a webhook message."""
    envelope = {
        "id": message.dedupe_key,
        "event": message.subject,
        "created_at": message.created_at,
        "data": message.payload,
    }
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def _send_webhook(message: OutboxMessage) -> None:
    body = webhook_body(message)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Siaga112-Signature": sign(body, message.secret),
        "X-Siaga112-Delivery": message.dedupe_key,
        "X-Siaga112-Timestamp": str(int(time.time())),
    }
    try:
        response = requests.post(
            message.receiver,
            data=body,
            headers=headers,
            timeout=float(outbox_setting("WEBHOOK_TIMEOUT_SECONDS")),
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}")


def _record_failure(message: OutboxMessage, exc: BaseException) -> str:
    error = scrub_text(str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS]
    max_attempts = int(outbox_setting("MAX_ATTEMPTS"))
    fields: dict[str, Any] = {"last_error": error}
    if message.attempts >= max_attempts:
        fields["status"] = Status.DEAD
    else:
        fields["status"] = Status.FAILED
        fields["next_attempt_at"] = timezone.now() + outbox_backoff(message.attempts)
    OutboxMessage.objects.filter(pk=message.pk, status=Status.SENDING).update(**fields)
    log = logger.error if fields["status"] == Status.DEAD else logger.warning
    log(
        "outbox.dead" if fields["status"] == Status.DEAD else "outbox.failed",
        extra={"message_id": message.pk, "channel": message.channel,
               "attempts": message.attempts, "schema": current_schema(),
               "error": type(exc).__name__},
    )
    return str(fields["status"])


def outbox_message_deliver(*, message_id: int) -> str:
    """Deliver one message if it is due; return its status afterwards, or
    "skipped" when there was nothing to do (already sent, not due, dead, missing,
    or claimed by another worker right now)."""
    message = _claim(message_id)
    if message is None:
        logger.info("outbox.skipped", extra={"message_id": message_id,
                                             "schema": current_schema()})
        return "skipped"
    started = time.monotonic()
    try:
        if message.channel == Channel.EMAIL:
            _send_email(message)
        else:
            _send_webhook(message)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
        return _record_failure(message, exc)
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=Status.SENT, sent_at=timezone.now(), last_error=""
    )
    logger.info(
        "outbox.sent",
        extra={"message_id": message.pk, "channel": message.channel,
               "attempts": message.attempts, "schema": current_schema(),
               "ms": round((time.monotonic() - started) * 1000)},
    )
    return str(Status.SENT)


# --- sweep -----------------------------------------------------------------------------


def outbox_due_ids(*, limit: int = 500) -> list[int]:
    """Messages of the current schema that a worker should (re)try now."""
    grace = float(outbox_setting("SWEEP_GRACE_SECONDS"))
    return list(
        OutboxMessage.objects.filter(_due_q(timezone.now(), grace=grace))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_sweep_schema() -> int:
    """Re-enqueue the due messages of the current schema; returns how many."""
    ids = outbox_due_ids()
    for message_id in ids:
        _deliver_task(message_id).delay()
    return len(ids)


def outbox_sweep_all() -> dict[str, int]:
    """Every Pemda schema: re-enqueue what is due. Returns {schema: count} for the
    schemas that had something."""
    found: dict[str, int] = {}
    schemas = list(pemda_tenants().order_by("schema_name").values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            count = outbox_sweep_schema()
        if count:
            found[schema] = count
    logger.info("outbox.swept", extra={"schemas": len(schemas), "requeued": sum(found.values())})
    return found


# --- retention -------------------------------------------------------------------------


def outbox_purge_schema(*, before: datetime) -> int:
    """Delete the current schema's sent and dead messages created before `before`:
    their payloads repeat incident details that the incident itself keeps."""
    deleted, _ = OutboxMessage.objects.filter(
        status__in=[Status.SENT, Status.DEAD], created_at__lt=before
    ).delete()
    return deleted


def outbox_purge_all() -> int:
    """Every Pemda schema: apply the retention period (RETENTION_DAYS)."""
    before = timezone.now() - timedelta(days=float(outbox_setting("RETENTION_DAYS")))
    total = 0
    for schema in pemda_tenants().order_by("schema_name").values_list("schema_name", flat=True):
        with schema_context(schema):
            total += outbox_purge_schema(before=before)
    logger.info("outbox.purged", extra={"deleted": total})
    return total
