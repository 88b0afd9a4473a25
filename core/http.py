"""The one mapping from a `DomainError` to an HTTP response.

`DomainErrorMiddleware.process_exception` catches a DomainError no view
handled: API clients (a path under /api/, `Accept: application/json` or a JSON
body) get `{"error": message, "code", "status", "field"}`, the shape of every
JSON error the platform answers (`siaga112.error_pages` writes the same for
404s, 429s and outages); htmx requests the message as text, so the console can show it in
place; browsers a page in the site's layout. A view that wants to answer an
error itself (re-render its form) still catches it first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from core.errors import DomainError, Forbidden, Invalid

ViewFn = Callable[..., HttpResponse]

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
        return domain_error_answer(request, exception)


def domain_error_answer(request: HttpRequest, exception: DomainError) -> HttpResponse:
    """The answer to a refusal no view handled (the middleware above, and the PBX
    API's short way, siaga112.pbx_path)."""
    # A refusal is an answer, not a fault: logged at info, without the message
    # (it may quote what the person typed).
    logger.info(
        "domain_error",
        extra={"code": exception.error_code(), "status": exception.error_status(),
               "error_class": type(exception).__name__, "path": request.path},
    )
    return error_response(request, exception)


# --- what the staff screens share: who may, reading the request, answering it ----------


def allowed(check: Callable[[Any], bool], *, denied_template: str) -> Callable[[ViewFn], ViewFn]:
    """Login required, then `check(user)`; a wrong role gets 403 and changes nothing.
    A refusal the view raises (a DomainError) is answered by the middleware above."""

    def decorate(view: ViewFn) -> ViewFn:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                if wants_json(request):
                    refusal = Forbidden(gettext("Your role may not do this."))
                    return JsonResponse(refusal.as_json(), status=403)
                return render(request, denied_template, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def done(request: HttpRequest, url: str, data: dict[str, Any] | None = None) -> HttpResponse:
    """A write succeeded: JSON for API clients, an htmx redirect, or a redirect."""
    if wants_json(request):
        return JsonResponse({"ok": True, **(data or {})})
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def post_data(request: HttpRequest) -> dict[str, Any]:
    """The form post, or the JSON object an API client sent."""
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise Invalid("The body is not valid JSON.", field="body") from None
        if not isinstance(body, dict):
            raise Invalid("The body must be a JSON object.", field="body")
        return body
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists()}
