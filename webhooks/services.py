"""Writes of the webhooks: subscribe and revoke (audited), publish an incident event
to every subscriber that hears it (in the incident's own transaction), deliver one
delivery (claim, sign, send, record), retry with the outbox's backoff, replay
(audited), sweep.

Delivery follows outbox.services (same claim/backoff/dead-letter rules, same
settings.OUTBOX knobs); the rows live in the public schema so a province's
subscribers and log need no walk through tenant schemas."""

from __future__ import annotations

import ipaddress
import json
import logging
import secrets
import socket
import time
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from celery import current_app
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, schema_context

from audit.services import record
from core.errors import DomainError
from core.localcache import TtlCache
from core.observability import scrub_text
from outbox.conf import outbox_setting
from outbox.services import USER_AGENT, outbox_backoff
from outbox.signing import sign_timestamped
from tenants.db import current_schema, tenant_connection
from tenants.models import Region, Tenant
from webhooks.conf import webhook_setting
from webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
DELIVER_TASK = "webhooks.deliver"
MAX_ERROR_CHARS = 1000


class WebhookError(DomainError):
    """Bad input for a subscription (the field is named) or a refused action."""


# --- subscriptions ---------------------------------------------------------------------


def _host_addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return bool(address.is_private or address.is_loopback or address.is_link_local
                or address.is_multicast or address.is_reserved or address.is_unspecified)


def webhook_url_check(url: str) -> str:
    """The URL if we may POST to it; WebhookError(field="url") otherwise.

    https only (http just for localhost when ALLOW_HTTP_LOCALHOST is on), and unless
    ALLOW_PRIVATE_ADDRESSES is on, a host that resolves to public addresses only:
    a subscriber may not make the platform call into its own network (SSRF)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookError(_("The webhook URL is not a valid http(s) URL."), field="url") from None
    if len(url) > 500:
        raise WebhookError(_("The webhook URL is too long (500 characters at most)."),
                           field="url")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")
    if parts.scheme != "https" and not (local and webhook_setting("ALLOW_HTTP_LOCALHOST")):
        raise WebhookError(_("The webhook URL must use https."), field="url")
    if parts.username or parts.password:
        raise WebhookError(_("Put no credentials in the webhook URL: it is signed."),
                           field="url")
    if not webhook_setting("ALLOW_PRIVATE_ADDRESSES"):
        addresses = _host_addresses(host)
        if not addresses:
            raise WebhookError(_("The webhook host %(host)s does not resolve.") % {"host": host},
                               field="url")
        if any(_is_private(a) for a in addresses):
            raise WebhookError(
                _("The webhook host %(host)s is a private or loopback address.") % {"host": host},
                field="url")
    return url


def _event_types(values: Any) -> list[str]:
    chosen = [str(v) for v in (values if isinstance(values, list | tuple) else [values]) if v]
    unknown = [v for v in chosen if v not in EVENT_TYPES]
    if unknown:
        raise WebhookError(_("Unknown event type %(event)s.") % {"event": unknown[0]},
                           field="event_types")
    if not chosen:
        raise WebhookError(_("Choose at least one event type."), field="event_types")
    return sorted(set(chosen))


@transaction.atomic
def webhook_subscription_create(
    *, actor: Any, name: str, url: str, event_types: Any,
    tenant: Tenant | None = None, province: Region | None = None,
) -> tuple[WebhookSubscription, str]:
    """A new subscriber and its signing secret (returned once; store it now). Audited
    in the schema of whoever made it: the Pemda's trail or the national one."""
    name = (name or "").strip()[:80]
    if not name:
        raise WebhookError(_("Give the subscriber a name."), field="name")
    clean_url = webhook_url_check(url)
    types = _event_types(event_types)
    if (tenant is None) == (province is None):
        raise WebhookError("A subscription is for one Pemda or one province.", field="scope")
    if province is not None and province.kind != Region.Kind.PROVINCE:
        raise WebhookError(_("Choose a province."), field="province")
    owner = Q(tenant=tenant) if tenant is not None else Q(province=province)
    if WebhookSubscription.objects.filter(owner, revoked_at__isnull=True).count() >= int(
            webhook_setting("MAX_SUBSCRIPTIONS_PER_OWNER")):
        raise WebhookError(_("Too many webhook subscribers: revoke one first."), field="url")
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription.objects.create(
        scope=WebhookSubscription.Scope.TENANT if tenant else WebhookSubscription.Scope.PROVINCE,
        tenant=tenant, province=province, name=name, url=clean_url, secret=secret,
        event_types=types, created_by=str(getattr(actor, "username", ""))[:150],
    )
    record(actor=actor, action="webhook.created", target=subscription,
           after={"name": name, "url": clean_url, "event_types": ", ".join(types)})
    logger.info("webhook.subscribed", extra={"subscription": subscription.pk,
                                             "scope": subscription.scope})
    return subscription, secret


@transaction.atomic
def webhook_subscription_revoke(*, actor: Any, subscription: WebhookSubscription) -> None:
    if subscription.revoked_at is not None:
        return
    subscription.revoked_at = timezone.now()
    subscription.save(update_fields=["revoked_at"])
    record(actor=actor, action="webhook.revoked", target=subscription)


# --- publish ---------------------------------------------------------------------------


def _schedule(delivery_id: int, eta: Any = None) -> None:
    """After commit: hand the delivery to a worker. A broker outage must not reach the
    request that committed: the row stays due for the sweep."""
    try:
        current_app.signature(DELIVER_TASK, args=[delivery_id]).apply_async(
            headers={"_schema_name": get_public_schema_name()},
            eta=eta,
            retry=True,
            retry_policy={"max_retries": int(outbox_setting("BROKER_PUBLISH_RETRIES")),
                          "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2},
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep recovers
        logger.warning("webhook.schedule_failed",
                       extra={"delivery": delivery_id, "error": type(exc).__name__})


# (tenant pk, province code or None) → has that Pemda, or its province, any subscriber
# that is not revoked? Read on every incident change and almost always "no": kept in
# the process (core.localcache). A subscription saved or deleted in this process
# clears it at once; one made in another process hears events after at most
# LOCAL_CACHE_SECONDS (its first seconds' events are not sent to it).
_has_subscribers: TtlCache[tuple[int, str | None], bool] = TtlCache()


def _forget_subscribers(**_kwargs: object) -> None:
    _has_subscribers.clear()


post_save.connect(_forget_subscribers, sender=WebhookSubscription,
                  dispatch_uid="webhook-subscribers-cache-save")
post_delete.connect(_forget_subscribers, sender=WebhookSubscription,
                    dispatch_uid="webhook-subscribers-cache-delete")


def _tenant_facts(schema: str) -> tuple[int, str, str | None] | None:
    """(pk, status, province code) of the Pemda whose schema is current: from the
    request's tenant (tenants.hosts' cached copy, with its region) when it is that
    Pemda, else one query (a Celery task, a command)."""
    tenant = getattr(tenant_connection(), "tenant", None)
    if (isinstance(tenant, Tenant) and tenant.schema_name == schema and tenant.pk is not None
            and "region" in tenant._state.fields_cache):
        region = tenant.region
        return tenant.pk, tenant.status, (region.parent_id if region is not None else None)
    row = (Tenant.objects.filter(schema_name=schema)
           .values("pk", "status", "region__parent_id").first())
    if row is None:
        return None
    return row["pk"], row["status"], row["region__parent_id"]


def webhook_event_publish(*, event: str, event_id: str, payload: dict[str, Any]) -> int:
    """Record one delivery per subscriber that hears `event` from the current Pemda:
    its own subscribers, and its province's when the Pemda is live. Call it inside
    the transaction of the change: both commit or neither does. Returns how many."""
    schema = current_schema()
    if event not in EVENT_TYPES or schema == get_public_schema_name():
        return 0
    tenant = _tenant_facts(schema)
    if tenant is None:
        return 0
    tenant_pk, status, province = tenant
    hears = Q(scope=WebhookSubscription.Scope.TENANT, tenant_id=tenant_pk)
    if status != Tenant.Status.LIVE or not province:
        province = None
    if province:
        hears |= Q(scope=WebhookSubscription.Scope.PROVINCE, province_id=province)
    owners = (tenant_pk, province)
    known = _has_subscribers.get(owners)
    if known is None:
        known = WebhookSubscription.objects.filter(hears, revoked_at__isnull=True).exists()
        _has_subscribers.set(owners, known)
    if not known:
        return 0
    subscriptions = list(
        WebhookSubscription.objects.filter(hears, revoked_at__isnull=True,
                                           event_types__contains=[event]).values_list("pk",
                                                                                     flat=True))
    if not subscriptions:
        return 0
    rows = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(subscription_id=pk, tenant_schema=schema, event=event,
                         event_id=event_id, delivery_key=event_id, payload=payload)
         for pk in subscriptions],
        ignore_conflicts=True,
    )
    # ignore_conflicts gives no pks back: read the rows this event now has.
    ids = list(WebhookDelivery.objects.filter(subscription_id__in=subscriptions,
                                              delivery_key=event_id, status=Status.PENDING,
                                              attempts=0).values_list("pk", flat=True))
    for delivery_id in ids:
        transaction.on_commit(partial(_schedule, delivery_id))
    logger.info("webhook.published", extra={"event_type": event, "schema": schema,
                                            "deliveries": len(rows)})
    return len(ids)


# --- deliver ---------------------------------------------------------------------------


def _due_q(now: Any) -> Q:
    stale = now - timedelta(seconds=float(outbox_setting("STALE_SENDING_SECONDS")))
    return (Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now)
            | Q(status=Status.SENDING, claimed_at__lt=stale))


def _claim(delivery_id: int) -> WebhookDelivery | None:
    with transaction.atomic():
        now = timezone.now()
        delivery = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("subscription").filter(_due_q(now), pk=delivery_id).first())
        if delivery is None:
            return None
        delivery.status = Status.SENDING
        delivery.claimed_at = now
        delivery.attempts += 1
        delivery.save(update_fields=["status", "claimed_at", "attempts"])
        return delivery


def webhook_body(delivery: WebhookDelivery) -> bytes:
    envelope = {"id": delivery.event_id, "event": delivery.event,
                "pemda": delivery.tenant_schema, "created_at": delivery.created_at,
                "data": delivery.payload}
    return json.dumps(envelope, cls=DjangoJSONEncoder, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


class DeliveryFailed(Exception):
    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


def _send(delivery: WebhookDelivery) -> int:
    subscription = delivery.subscription
    if subscription.revoked_at is not None:
        raise DeliveryFailed("subscription revoked")
    # Checked again at send time: DNS may have changed since the subscription.
    try:
        webhook_url_check(subscription.url)
    except WebhookError as exc:
        raise DeliveryFailed(f"refused URL: {exc.error_message()}") from None
    body = webhook_body(delivery)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Siaga112-Event": delivery.event,
        "X-Siaga112-Delivery": delivery.delivery_key,
        "X-Siaga112-Timestamp": timestamp,
        "X-Siaga112-Signature": sign_timestamped(body, subscription.secret, timestamp),
    }
    try:
        response = requests.post(subscription.url, data=body, headers=headers,
                                 timeout=float(outbox_setting("WEBHOOK_TIMEOUT_SECONDS")),
                                 allow_redirects=False)
    except requests.RequestException as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"HTTP {response.status_code}", response.status_code)
    return response.status_code


def webhook_delivery_deliver(*, delivery_id: int) -> str:
    """Send one delivery if it is due; its status afterwards, or "skipped"."""
    with schema_context(get_public_schema_name()):
        delivery = _claim(delivery_id)
        if delivery is None:
            return "skipped"
        try:
            code = _send(delivery)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded and retried
            return _record_failure(delivery, exc)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.SENT, sent_at=timezone.now(), last_error="", response_code=code)
        logger.info("webhook.sent", extra={"delivery": delivery.pk,
                                           "attempts": delivery.attempts})
        return str(Status.SENT)


def _record_failure(delivery: WebhookDelivery, exc: BaseException) -> str:
    error = scrub_text(str(exc) or type(exc).__name__)[:MAX_ERROR_CHARS]
    fields: dict[str, Any] = {"last_error": error,
                              "response_code": getattr(exc, "status_code", None)}
    if delivery.attempts >= int(outbox_setting("MAX_ATTEMPTS")):
        fields["status"] = Status.DEAD
    else:
        fields["status"] = Status.FAILED
        fields["next_attempt_at"] = timezone.now() + outbox_backoff(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.SENDING).update(**fields)
    if fields["status"] == Status.FAILED:
        # The retry is on its way now, at its time; the sweep is the safety net.
        transaction.on_commit(partial(_schedule, delivery.pk, fields["next_attempt_at"]))
    logger.warning("webhook.failed", extra={"delivery": delivery.pk,
                                            "attempts": delivery.attempts,
                                            "status": fields["status"]})
    return str(fields["status"])


@transaction.atomic
def webhook_delivery_replay(*, actor: Any, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send an earlier delivery's event again, as a new delivery with its own key
    (receivers that dedupe would drop a repeat of the old one). Audited in the
    actor's schema. The caller has checked that `actor` may see `delivery`."""
    with schema_context(get_public_schema_name()):
        count = WebhookDelivery.objects.filter(replay_of=delivery).count()
        replay = WebhookDelivery.objects.create(
            subscription=delivery.subscription, tenant_schema=delivery.tenant_schema,
            event=delivery.event, event_id=delivery.event_id,
            delivery_key=f"{delivery.event_id}:replay:{count + 1}"[:220],
            payload=delivery.payload, replay_of=delivery,
            replayed_by=str(getattr(actor, "username", ""))[:150],
        )
    record(actor=actor, action="webhook.replayed", target=delivery.subscription,
           after={"delivery": str(delivery.pk), "replay": str(replay.pk)})
    transaction.on_commit(partial(_schedule, replay.pk))
    return replay


def webhook_sweep() -> int:
    """Re-enqueue due deliveries (public schema only: one query, whatever the number
    of Pemda)."""
    with schema_context(get_public_schema_name()):
        ids = list(WebhookDelivery.objects.filter(_due_q(timezone.now()))
                   .order_by("next_attempt_at").values_list("pk", flat=True)[:500])
    for delivery_id in ids:
        _schedule(delivery_id)
    return len(ids)
