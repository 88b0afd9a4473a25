"""Reads of the webhooks (public schema): a Pemda's or a province's subscribers and
their delivery log, and the access helpers that turn an id from outside into a row
the person may touch (the same 404 for missing and for someone else's)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import NotFound
from tenants.models import Tenant
from webhooks.models import WebhookDelivery, WebhookSubscription

LOG_LIMIT = 100


def _owner_q(tenant: Tenant | None, provinces: Any) -> Q:
    if tenant is not None:
        return Q(tenant=tenant)
    return Q(province__in=provinces)


def subscriptions_for(*, tenant: Tenant | None = None,
                      provinces: Any = None) -> QuerySet[WebhookSubscription]:
    return (WebhookSubscription.objects.filter(_owner_q(tenant, provinces))
            .select_related("province"))


def deliveries_for(*, tenant: Tenant | None = None, provinces: Any = None,
                   limit: int = LOG_LIMIT) -> list[WebhookDelivery]:
    """The newest deliveries of these subscribers: status, attempts, last error and
    the receiver's response code, for the admin's log."""
    owner = Q(subscription__tenant=tenant) if tenant is not None else Q(
        subscription__province__in=provinces)
    return list(WebhookDelivery.objects.filter(owner).select_related("subscription")
                .order_by("-created_at", "-id")[:limit])


def access_subscription(*, subscription_id: object, tenant: Tenant | None = None,
                        provinces: Any = None) -> WebhookSubscription:
    try:
        return subscriptions_for(tenant=tenant, provinces=provinces).get(
            pk=int(str(subscription_id)))
    except (WebhookSubscription.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such webhook.")) from None


def access_delivery(*, delivery_id: object, tenant: Tenant | None = None,
                    provinces: Any = None) -> WebhookDelivery:
    owner = Q(subscription__tenant=tenant) if tenant is not None else Q(
        subscription__province__in=provinces)
    try:
        return WebhookDelivery.objects.select_related("subscription").filter(owner).get(
            pk=int(str(delivery_id)))
    except (WebhookDelivery.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such delivery.")) from None
