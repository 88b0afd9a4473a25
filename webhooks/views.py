"""The webhook pages: a Pemda admin's (/manage/webhooks/ on the Pemda's host) and a
national officer's for province subscribers (/webhooks/ on the national host).
Thin: who may, then a selector or a service. JSON for API clients."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from core.http import allowed, done, post_data, wants_json
from tenants.models import Region, Tenant
from webhooks import selectors, services
from webhooks.models import EVENT_TYPES, WebhookSubscription


def _pemda_admin(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.PEMDA_ADMIN))


def _national(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(Role.NATIONAL_OFFICER))


def _tenant(request: HttpRequest) -> Tenant:
    # request.tenant is the Pemda whose host this is; its admin manages only it.
    return Tenant.objects.get(pk=request.tenant.pk)  # type: ignore[attr-defined]


def _provinces() -> Any:
    return Region.objects.filter(kind=Region.Kind.PROVINCE)


def _event_types(data: dict[str, Any]) -> Any:
    value = data.get("event_types", [])
    return value if isinstance(value, list) else [value]


def _created_answer(request: HttpRequest, subscription: WebhookSubscription,
                    secret: str, context: dict[str, Any], template: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, "id": subscription.pk, "secret": secret}, status=201)
    return render(request, template, {**context, "new_secret": secret,
                                      "new_subscription": subscription}, status=201)


def _tenant_context(request: HttpRequest) -> dict[str, Any]:
    tenant = _tenant(request)
    return {"subscriptions": selectors.subscriptions_for(tenant=tenant),
            "deliveries": selectors.deliveries_for(tenant=tenant),
            "event_types": EVENT_TYPES, "scope": "tenant"}


@allowed(_pemda_admin, denied_template="incidents/denied.html")
def manage_webhooks(request: HttpRequest) -> HttpResponse:
    template = "webhooks/manage_tenant.html"
    if request.method == "POST":
        data = post_data(request)
        subscription, secret = services.webhook_subscription_create(
            actor=request.user, name=str(data.get("name", "")), url=str(data.get("url", "")),
            event_types=_event_types(data), tenant=_tenant(request))
        return _created_answer(request, subscription, secret, _tenant_context(request), template)
    context = _tenant_context(request)
    if wants_json(request):
        return JsonResponse({"deliveries": [_delivery_json(d) for d in context["deliveries"]]})
    return render(request, template, context)


@allowed(_pemda_admin, denied_template="incidents/denied.html")
@require_POST
def manage_webhook_revoke(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.access_subscription(subscription_id=subscription_id,
                                                 tenant=_tenant(request))
    services.webhook_subscription_revoke(actor=request.user, subscription=subscription)
    return done(request, reverse("manage_webhooks"))


@allowed(_pemda_admin, denied_template="incidents/denied.html")
@require_POST
def manage_delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery(delivery_id=delivery_id, tenant=_tenant(request))
    replay = services.webhook_delivery_replay(actor=request.user, delivery=delivery)
    return done(request, reverse("manage_webhooks"), {"replay": replay.pk})


# --- national site: province subscribers -----------------------------------------------


def _province_context() -> dict[str, Any]:
    provinces = _provinces()
    return {"subscriptions": selectors.subscriptions_for(provinces=provinces),
            "deliveries": selectors.deliveries_for(provinces=provinces),
            "event_types": EVENT_TYPES, "scope": "province", "provinces": provinces}


@allowed(_national, denied_template="reporting/audit/national_denied.html")
def province_webhooks(request: HttpRequest) -> HttpResponse:
    template = "webhooks/manage_public.html"
    if request.method == "POST":
        data = post_data(request)
        province = _provinces().filter(code=str(data.get("province", ""))).first()
        if province is None:
            raise services.WebhookError(_("Choose a province."), field="province")
        subscription, secret = services.webhook_subscription_create(
            actor=request.user, name=str(data.get("name", "")), url=str(data.get("url", "")),
            event_types=_event_types(data), province=province)
        return _created_answer(request, subscription, secret, _province_context(), template)
    context = _province_context()
    if wants_json(request):
        return JsonResponse({"deliveries": [_delivery_json(d) for d in context["deliveries"]]})
    return render(request, template, context)


@allowed(_national, denied_template="reporting/audit/national_denied.html")
@require_POST
def province_webhook_revoke(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = selectors.access_subscription(subscription_id=subscription_id,
                                                 provinces=_provinces())
    services.webhook_subscription_revoke(actor=request.user, subscription=subscription)
    return done(request, reverse("province_webhooks"))


@allowed(_national, denied_template="reporting/audit/national_denied.html")
@require_POST
def province_delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery(delivery_id=delivery_id, provinces=_provinces())
    replay = services.webhook_delivery_replay(actor=request.user, delivery=delivery)
    return done(request, reverse("province_webhooks"), {"replay": replay.pk})


def _delivery_json(delivery: Any) -> dict[str, Any]:
    return {"id": delivery.pk, "subscription": delivery.subscription_id,
            "event": delivery.event, "event_id": delivery.event_id,
            "pemda": delivery.tenant_schema, "status": delivery.status,
            "attempts": delivery.attempts, "last_error": delivery.last_error,
            "response_code": delivery.response_code, "replay_of": delivery.replay_of_id,
            "created_at": delivery.created_at.isoformat()}
