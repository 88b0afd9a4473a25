"""Two-factor login enforced for every request of a session, not per view: a
session of a role in `SECOND_FACTOR_ROLES` that has not passed the second factor
reaches only the verify, enrol and logout pages (and the language switch). A
browser is redirected there; JSON, API and GraphQL requests get 403 JSON, htmx
polls a 403 that sends the page there. So a password alone opens no console,
whatever view a new route adds."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import user_has_device

from accounts.policies import needs_second_factor
from core.http import wants_json

# Reached before the second factor. Login is here so a person can switch account.
_OPEN_NAMES = ("twofactor_verify", "twofactor_enrol", "login", "logout", "set_language",
               "healthz", "favicon")


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> tuple[str, ...]:
        # The same paths on both hosts (siaga112.urls_common); resolved on first use,
        # after the URLconfs can be imported.
        return tuple(reverse(name) for name in _OPEN_NAMES)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not needs_second_factor(user)
            or user.is_verified()
            or request.path_info in self.open_paths
            or request.path_info.startswith(settings.STATIC_URL)
        ):
            return self.get_response(request)
        target = "twofactor_verify" if user_has_device(user) else "twofactor_enrol"
        url = reverse(target)
        message = _("Two-factor login is required: enter the code from your authenticator app.")
        if wants_json(request):
            return JsonResponse({"error": message, "status": 403, "second_factor": url},
                                status=403)
        if request.headers.get("HX-Request"):
            response = HttpResponse(message, status=403, content_type="text/plain")
            response["HX-Redirect"] = url
            return response
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
