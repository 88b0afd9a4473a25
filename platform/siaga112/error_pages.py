"""Branded error answers for every host: a page for browsers (Indonesian first,
English below it), JSON for API clients (PBX, GraphQL, fetch/htmx asking for
JSON). Never a traceback, a setting or a URL pattern.

The pages are rendered without the request's context processors, because the
error may be that PostgreSQL, Redis or the session is what failed.

A 500 whose cause is an unreachable PostgreSQL or Redis becomes a 503 with
`Retry-After`: the request did not fail, the platform was briefly away, and
a PBX (which retries) or a person (who reloads) should simply try again.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from core.http import wants_json

logger = logging.getLogger(__name__)

# What an API client reads; English, like every other API message.
API_MESSAGES = {
    400: "bad request",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
    415: "unsupported media type",
    429: "too many requests; retry after the given number of seconds",
    500: "internal error; it has been recorded",
    503: "service briefly unavailable; retry after the given number of seconds",
}
# The machine-readable `code`, named as core.errors names a DomainError's, so an API
# client reads one shape and one vocabulary whichever layer refused it.
API_CODES = {
    400: "invalid",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}
# The same sentences as the pages' titles (frontend/locale), for htmx requests.
HTMX_MESSAGES = {
    400: _("Bad request"),
    403: _("Access denied"),
    404: _("Page not found"),
    429: _("Too many attempts"),
    500: _("Something went wrong"),
    503: _("The center's system is briefly unavailable"),
}


def retry_after_seconds() -> int:
    return int(str(settings.SIAGA112.get("RETRY_AFTER_SECONDS", 5)))


def error_response(
    request: HttpRequest,
    status: int,
    *,
    retry_after: int | None = None,
    message: str | None = None,
) -> HttpResponse:
    response: HttpResponse
    if request.headers.get("HX-Request") and not wants_json(request):
        # htmx shows the answer in a small notice (incidents.js): one sentence, not a page.
        response = HttpResponse(str(HTMX_MESSAGES.get(status, HTMX_MESSAGES[500])),
                                status=status, content_type="text/plain; charset=utf-8")
    elif wants_json(request):
        body: dict[str, object] = {"error": message or API_MESSAGES.get(status, "error"),
                                   "code": API_CODES.get(status, "error"), "status": status}
        if retry_after is not None:
            body["retry_after"] = retry_after
        response = JsonResponse(body, status=status)
    else:
        html = render_to_string(
            "errors/layout.html", {"status": status, "retry_after": retry_after or 0}
        )
        response = HttpResponse(html, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    # An error answer is about this moment only: never cached by a browser or a proxy.
    response["Cache-Control"] = "no-store"
    return response


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def outage_kind(exc: BaseException | None) -> str | None:
    """'postgres' or 'redis' when `exc` (or what caused it) says the server is away."""
    import psycopg
    import redis
    from django.db import utils as db_utils

    try:
        from kombu.exceptions import OperationalError as KombuOperationalError
    except ImportError:  # pragma: no cover - kombu comes with celery
        KombuOperationalError = ()  # type: ignore[assignment,misc]  # noqa: N806

    for item in _chain(exc):
        if isinstance(item, db_utils.OperationalError | db_utils.InterfaceError
                      | psycopg.OperationalError | psycopg.InterfaceError):
            return "postgres"
        if isinstance(item, redis.ConnectionError | redis.TimeoutError | KombuOperationalError):
            return "redis"
    return None


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(request, 403, message="CSRF check failed")


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block: the exception is still current.
    kind = outage_kind(sys.exc_info()[1])
    if kind is not None:
        logger.warning("service.unavailable", extra={"server": kind, "path": request.path})
        return error_response(request, 503, retry_after=retry_after_seconds())
    return error_response(request, 500)
