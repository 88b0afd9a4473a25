from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_tenants.middleware.main import TenantMainMiddleware


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema switch, with a readable 404 for unknown hosts."""

    def get_tenant(self, domain_model, hostname):  # type: ignore[no-untyped-def]
        # The region (time zone, name) is read on every request, polls included:
        # fetch it with the domain instead of one more query per request.
        return (
            domain_model.objects.select_related("tenant__region").get(domain=hostname).tenant
        )

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        body = render_to_string(
            "errors/unknown_host.html",
            {"hostname": hostname, "base_domain": settings.BASE_DOMAIN},
        )
        return HttpResponse(body, status=404)


class TenantTimezoneMiddleware:
    """Show times in the Pemda's own zone (WIB/WITA/WIT); the national console in WIB."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tenant = getattr(request, "tenant", None)
        region = getattr(tenant, "region", None) if tenant is not None else None
        zone = region.timezone if region is not None else settings.DISPLAY_TIME_ZONE
        timezone.activate(zoneinfo.ZoneInfo(zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class IndonesianFirstMiddleware:
    """The UI is Indonesian unless the person chose English with the language
    switch (cookie): a browser's Accept-Language does not override that choice."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class NoStoreWhenSignedInMiddleware:
    """Whatever a signed-in person sees may carry caller numbers and names: no
    browser or proxy keeps a copy (Cache-Control: no-store, private)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
