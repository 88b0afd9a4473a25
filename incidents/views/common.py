"""What every screen shares: who may, reading the request, answering it.

Answers: HTML for the browser (htmx partials for the live parts), JSON when the
client asks for it (Accept: application/json). Refused input is a 4xx with a
message a person can act on; services roll back so nothing is half-saved.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.models import User
from incidents.errors import OperationError

ViewFn = Callable[..., HttpResponse]


def acting_user(request: HttpRequest) -> User:
    return cast(User, request.user)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type == "application/json"
    )


def is_test(request: HttpRequest) -> bool:
    """A Pemda in trial makes test incidents (kept out of the national figures)."""
    tenant = getattr(request, "tenant", None)
    return bool(getattr(tenant, "in_trial", False))


def allowed(check: Callable[[Any], bool]) -> Callable[[ViewFn], ViewFn]:
    """Login required, then `check(user)`; a wrong role gets 403 and changes nothing."""

    def decorate(view: ViewFn) -> ViewFn:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                return denied(request)
            try:
                return view(request, *args, **kwargs)
            except OperationError as exc:
                return fail(request, exc)

        return wrapper

    return decorate


def denied(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": _("Your role may not do this.")}, status=403)
    return render(request, "incidents/denied.html", status=403)


def fail(request: HttpRequest, exc: OperationError) -> HttpResponse:
    if exc.status == 404:
        raise Http404(exc.message)
    if wants_json(request):
        return JsonResponse(exc.as_json(), status=exc.status)
    if request.headers.get("HX-Request"):
        return HttpResponse(_(exc.message), status=exc.status, content_type="text/plain")
    return render(request, "incidents/error.html", {"error": exc}, status=exc.status)


def done(request: HttpRequest, url: str, data: dict[str, Any] | None = None) -> HttpResponse:
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
            raise OperationError("The body is not valid JSON.", field="body") from None
        if not isinstance(body, dict):
            raise OperationError("The body must be a JSON object.", field="body")
        return body
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists()}
