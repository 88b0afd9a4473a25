"""The one mapping from a `DomainError` to an HTTP response.

`DomainErrorMiddleware.process_exception` catches a DomainError no view
handled: API clients (a path under /api/, `Accept: application/json` or a JSON
body) get `{"error": message, "code": ..., "field": ...}` with the error's
status; htmx requests the message as text, so the console can show it in
place; browsers a page in the site's layout. A view that wants to answer an
error itself (re-render its form) still catches it first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

from core.errors import DomainError

logger = logging.getLogger(__name__)


# Paths whose clients are programs (PBX, integrations): they always get JSON.
API_PREFIXES = ("/api/", "/graphql")


def wants_json(request: HttpRequest) -> bool:
    """The one test, used by every error answer: API paths always; elsewhere a client
    that sends JSON, or asks for JSON and not HTML (a browser's Accept lists both)."""
    if request.path.startswith(API_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return True
    return request.content_type == "application/json"


def error_response(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = exc.error_status()
    if wants_json(request):
        return JsonResponse(exc.as_json(), status=status)
    # Some services raise an English literal and leave the translation to the page
    # (as the consoles always did); translating an already translated text is a no-op.
    message = gettext(exc.error_message())
    if request.headers.get("HX-Request"):
        return HttpResponse(message, status=status, content_type="text/plain")
    return render(
        request,
        "errors/domain_error.html",
        {"status": status, "message": message, "field": exc.error_field()},
        status=status,
    )


class DomainErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        # A refusal is an answer, not a fault: logged at info, without the message
        # (it may quote what the person typed).
        logger.info(
            "domain_error",
            extra={"code": exception.error_code(), "status": exception.error_status(),
                   "error_class": type(exception).__name__, "path": request.path},
        )
        return error_response(request, exception)
