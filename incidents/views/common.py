"""What every call-center screen shares: who may, reading the request, answering it.

Answers: HTML for the browser (htmx partials for the live parts), JSON when the
client asks for it (Accept: application/json). A refusal a service raises (a
`DomainError`) is answered by `core.http`'s middleware: the same JSON, htmx text
or page everywhere; services roll back so nothing is half-saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest

from accounts.models import User
from core import http
from core.http import ViewFn


def acting_user(request: HttpRequest) -> User:
    return cast(User, request.user)


def is_test(request: HttpRequest) -> bool:
    """A Pemda in trial makes test incidents (kept out of the national figures)."""
    tenant = getattr(request, "tenant", None)
    return bool(getattr(tenant, "in_trial", False))


def allowed(check: Callable[[Any], bool]) -> Callable[[ViewFn], ViewFn]:
    """Login required, then `check(user)`; a wrong role gets the console's 403 page."""
    return http.allowed(check, denied_template="incidents/denied.html")
