"""The PBX API's own short way through the server (/api/pbx/).

A PBX request is a program posting one event with its key: no session, no CSRF
token, no signed-in person, no language choice, no page. Going through the fifteen
middlewares a browser needs cost it more CPU than its one SQL statement, and two
cores then capped the intake far below what PostgreSQL writes (README
"Performance"). `PbxLeanMiddleware` is first in MIDDLEWARE; for /api/pbx/ it answers
through its own short chain and the rest never runs:

- host → tenant from the process cache, search_path only when it changes
  (siaga112.middleware.TenantMiddleware, its readable 404 for unknown hosts);
- the security headers an API answer carries (SecurityMiddleware: HTTPS redirect,
  HSTS, nosniff, referrer policy; X-Frame-Options);
- the Redis throttle (siaga112.throttle, one round trip in, one after a 401);
- the request's address for audit rows, the Pemda's time zone, Indonesian as the
  language (what LocaleMiddleware gives a PBX, which sends no language cookie);
- the view, with a refusal (DomainError) answered in the one JSON shape as
  core.http does, and anything else left to Django's handler (500/503 JSON,
  got_request_exception for Sentry), exactly as for every other path.

And no `SELECT 1` before each event (CONN_HEALTH_CHECKS): a call event is
idempotent by its call id, so when the kept connection turns out to be dead (the
statement fails with the connection lost: PostgreSQL restarted) the event is run
once more on a new connection. A retry of a write that did commit answers
`duplicate: true` and writes nothing (tests/foundation/test_outage.py). AML
reports keep the health check: storing one twice is not a no-op.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch, URLResolver, get_resolver, set_urlconf
from django.utils import translation
from django.utils.module_loading import import_string

from core.errors import DomainError
from core.http import domain_error_answer
from tenants.db import tenant_connection

logger = logging.getLogger(__name__)

PBX_PREFIX = "/api/pbx/"
# Events are idempotent by call id: safe to run again on a new connection.
RETRYABLE_PATHS = frozenset({"/api/pbx/events/"})

# Outermost first, as in MIDDLEWARE.
LEAN_MIDDLEWARE = (
    "siaga112.middleware.TenantMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "siaga112.throttle.ThrottleMiddleware",
    "audit.middleware.AuditRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "siaga112.middleware.TenantTimezoneMiddleware",
)


# The PBX paths' URL matches: Django resolves each request by trying the URL patterns
# in order (~60 of them before /api/pbx/), ~10% of a ringing event's CPU. Only the
# fixed paths are kept (bounded), and only for the resolver they came from (a test's
# ROOT_URLCONF override gets a new resolver from get_resolver's cache).
_CACHED_PATHS = frozenset({"/api/pbx/events/", "/api/pbx/aml/"})
_matches: dict[str, tuple[URLResolver, ResolverMatch]] = {}


def _resolve(urlconf: str | None, path: str) -> ResolverMatch:
    resolver = get_resolver(urlconf)
    cached = _matches.get(path)
    if cached is not None and cached[0] is resolver:
        return cached[1]
    match = resolver.resolve(path)  # Resolver404: handler404
    if path in _CACHED_PATHS:
        _matches[path] = (resolver, match)
    return match


def _connection_lost() -> bool:
    raw = tenant_connection().connection
    if raw is None:
        return True  # Django closed it on the failed rollback
    return bool(getattr(raw, "closed", False) or getattr(raw, "broken", False))


def _view(request: HttpRequest) -> HttpResponse:
    """Django's BaseHandler._get_response for a function view, minus view middleware."""
    urlconf = getattr(request, "urlconf", None)
    if urlconf is not None:
        set_urlconf(urlconf)
    match = _resolve(urlconf, request.path_info)
    request.resolver_match = match
    translation.activate(settings.LANGUAGE_CODE)
    retry = request.path_info in RETRYABLE_PATHS
    connection = tenant_connection()
    if retry and connection.connection is not None:
        connection.health_check_done = True
    try:
        try:
            response = match.func(request, *match.args, **match.kwargs)
        except (OperationalError, InterfaceError):
            if not retry or not _connection_lost():
                raise
            logger.warning("pbx.connection_lost_retry", extra={"path": request.path_info})
            connection.close()
            response = match.func(request, *match.args, **match.kwargs)
    except DomainError as exc:
        response = domain_error_answer(request, exc)
    if response is None:
        raise ValueError(f"the view {match.func!r} returned None")
    if not response.streaming and not response.has_header("Content-Length"):
        response.headers["Content-Length"] = str(len(response.content))
    return response


def lean_chain() -> Callable[[HttpRequest], HttpResponse]:
    """Each layer wrapped as Django's handler wraps it: an exception becomes its
    answer (404, 500/503 with got_request_exception for Sentry) where it is raised."""
    from django.core.handlers.exception import convert_exception_to_response

    handler = cast(Callable[[HttpRequest], HttpResponse], convert_exception_to_response(_view))
    for path in reversed(LEAN_MIDDLEWARE):
        handler = cast(Callable[[HttpRequest], HttpResponse],
                       convert_exception_to_response(import_string(path)(handler)))
    return handler


class PbxLeanMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.lean = lean_chain()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(PBX_PREFIX):
            return self.lean(request)
        return self.get_response(request)
