"""Conditional polling of the console fragments: 304 from the Pemda's change counters.

The ETag of a fragment is a keyed hash of: the Pemda, the fragment's path and query,
the change counters of the kinds it shows (incidents.live), the user, role and
responder agency it was rendered for, the language, and a minute that is different
for each user (so the consoles of a Pemda do not all re-render in the same second).
Two people, roles or agencies never share an ETag, and everything on a fragment that
moves with the clock alone (an overdue mark) is at most a minute old.

The 304 is decided before any user or table is read: the session (one read) must be
signed in and carry the scope stored when this user was last served this fragment in
full, for the same password hash, less than SCOPE_SECONDS ago. Anonymous or expired
sessions, a changed password, or a scope too old: the request goes the full way
(login, role check, render), and that is the only place a scope is stored.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import add_never_cache_headers

from accounts.models import Role
from incidents import live, policies
from tenants.db import current_schema

ViewFn = Callable[..., HttpResponse]

SCOPE_SESSION_KEY = "_live_scope"
# How long a role, agency or deactivation may take to reach a 304 path: after this,
# the next poll is answered in full (login and role checks run again).
SCOPE_SECONDS = 60
BUCKET_SECONDS = 60


def _etag(request: HttpRequest, versions: str, scope: dict[str, Any]) -> str:
    uid = int(scope["uid"])
    bucket = int((time.time() + uid % BUCKET_SECONDS) // BUCKET_SECONDS)
    parts = "|".join(
        str(p)
        for p in (
            current_schema(),
            request.get_full_path(),
            versions,
            uid,
            scope["role"],
            scope["agency"],
            getattr(request, "LANGUAGE_CODE", ""),
            bucket,
        )
    )
    digest = hashlib.blake2b(
        parts.encode(), digest_size=12, key=settings.SECRET_KEY.encode()[:64]
    ).hexdigest()
    return f'W/"{digest}"'


def _matches(header: str, tag: str) -> bool:
    return any(t.strip() == tag for t in header.split(","))


def _stored_scope(request: HttpRequest, name: str) -> dict[str, Any] | None:
    """The scope a signed-in session was last served `name` with, still valid."""
    session = request.session  # type: ignore[attr-defined]
    uid = session.get(SESSION_KEY)
    scope = session.get(SCOPE_SESSION_KEY)
    if not uid or not isinstance(scope, dict):
        return None
    if (
        str(scope.get("uid")) != str(uid)
        or scope.get("hash") != session.get(HASH_SESSION_KEY)
        or float(scope.get("until", 0)) < time.time()
        or name not in scope.get("views", ())
    ):
        return None
    return scope


def _store_scope(request: HttpRequest, name: str) -> dict[str, Any]:
    user: Any = request.user
    session = request.session  # type: ignore[attr-defined]
    old = session.get(SCOPE_SESSION_KEY)
    agency = policies.responder_agency(user) if user.role == Role.OPD_RESPONDER else None
    views: list[str] = []
    scope: dict[str, Any] = {
        "uid": str(user.pk),
        "hash": session.get(HASH_SESSION_KEY),
        "role": str(user.role),
        "agency": agency.pk if agency is not None else "",
        "views": views,
        "until": time.time() + SCOPE_SECONDS,
    }
    if isinstance(old, dict) and all(old.get(k) == scope[k] for k in ("uid", "hash", "role",
                                                                       "agency")):
        if float(old.get("until", 0)) - time.time() > SCOPE_SECONDS / 2 and name in old.get(
            "views", ()
        ):
            return old  # fresh enough: no session write on every full answer
        views.extend(old.get("views", ()))
    if name not in views:
        views.append(name)
    session[SCOPE_SESSION_KEY] = scope
    return scope


def conditional(name: str, kinds: Iterable[str]) -> Callable[[ViewFn], ViewFn]:
    """Wrap a polled fragment view (already wrapped in its login and role check)."""
    kinds = tuple(kinds)

    def decorate(view: ViewFn) -> ViewFn:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method != "GET":
                return view(request, *args, **kwargs)
            # Read before rendering: a write landing during the render then changes the
            # counters after this value, and the next poll is answered in full.
            versions = live.versions(kinds)
            header = request.headers.get("If-None-Match", "")
            if versions is not None and header:
                scope = _stored_scope(request, name)
                if scope is not None:
                    tag = _etag(request, versions, scope)
                    if _matches(header, tag):
                        not_modified = HttpResponseNotModified()
                        not_modified["ETag"] = tag
                        add_never_cache_headers(not_modified)
                        # The no-store middleware need not load the user to add it.
                        not_modified.never_cache_set = True  # type: ignore[attr-defined]
                        return not_modified
            response = view(request, *args, **kwargs)
            user: Any = getattr(request, "user", None)
            if (
                versions is not None
                and response.status_code == 200
                and user is not None
                and user.is_authenticated
            ):
                response["ETag"] = _etag(request, versions, _store_scope(request, name))
            return response

        return wrapper

    return decorate
