from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_tenant_domain_model

from tenants.db import tenant_connection
from tenants.hosts import tenant_for_host


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' host → schema switch, with a readable 404 for unknown hosts.

    Two round trips fewer per request than django-tenants' own: the host's tenant
    (and its region: time zone, name) comes from the process cache in
    tenants.hosts, and when the connection already has this tenant's search_path
    (TENANT_LIMIT_SET_CALLS, the previous request was for the same Pemda) it is not
    sent again."""

    def get_tenant(self, domain_model, hostname):  # type: ignore[no-untyped-def]
        return tenant_for_host(hostname)

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        try:
            hostname = self.hostname_from_request(request)
        except DisallowedHost:
            return HttpResponseNotFound()
        domain_model = get_tenant_domain_model()
        try:
            tenant = self.get_tenant(domain_model, hostname)
        except domain_model.DoesNotExist:
            tenant_connection().set_schema_to_public()
            return self.no_tenant_found(request, hostname)
        tenant.domain_url = hostname
        request.tenant = tenant  # type: ignore[attr-defined]
        connection = tenant_connection()
        if (
            connection.schema_name == tenant.schema_name
            and getattr(connection, "search_path_set_schemas", None)
        ):
            # The same schema is set and still in force (django-tenants forgets it on
            # rollback and close): only the tenant object is refreshed.
            connection.tenant = tenant
        else:
            connection.set_tenant(tenant)
        self.setup_url_routing(request)
        return None

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
