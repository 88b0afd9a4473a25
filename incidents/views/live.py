"""Conditional polling of the console fragments: 304 from the Pemda's change counters.

The ETag of a fragment is a keyed hash of: the Pemda, the fragment's path and query,
the change counters of the kinds it shows (incidents.live), the user, role and
responder agency it was rendered for, the language the request asks for, and a five-minute
period (BUCKET_SECONDS) that starts at a different second for each user (so a Pemda's
consoles do not all re-render in the same second). Two people, roles or agencies never
share an ETag; running times tick in the browser (incidents.js).

Two places answer 304:
- `conditional`, inside the view's login and role check: the full request path
  (session, user, policy) without rendering. It also remembers, in Redis, for this
  session on this host, who it answered for (schema, user, role, agency, the paths and
  their kinds) for SCOPE_SECONDS.
- `EarlyNotModifiedMiddleware`, first in MIDDLEWARE: with that remembered scope and the
  Redis counters, it answers 304 before the tenant lookup, the session and the user:
  two Redis reads and no database. Without a remembered scope (anonymous, another
  session, signed out, the scope's minute over, Redis away) it does nothing and the request
  goes the full way, where login and role are checked again.

What the clock alone changes (a ringing call's offer window ending, incidents.call_routing)
moves no counter: such a view gives `conditional` an `extra` function returning a token
(part of the ETag, so the full path's 304 changes with it) and the time it will next
change; the early path answers only before that time and reuses the token.

A view marked `heartbeat` (the ringing watcher polled by every page) also records the
user's heartbeat in Redis on both paths, in the early path's round trip.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import add_never_cache_headers

from accounts.models import Role
from incidents import live, policies
from tenants.db import current_schema

ViewFn = Callable[..., HttpResponse]
# (token, until): see the module's text.
Extra = Callable[[HttpRequest], tuple[str, float | None]]

# Every fragment is rendered afresh at least this often, even when no counter moved:
# a safety net for a bump lost while Redis was away, and for what moves with the clock
# alone (overdue marks also come with the escalation job's write every minute).
BUCKET_SECONDS = 300
# How long the early path may answer for a session without the login and role checks
# (a role, agency or deactivation takes at most this long to reach it).
SCOPE_SECONDS = 60
# Seconds until the clock alone changes the fragment (see _hint_refresh).
REFRESH_HEADER = "Siaga-Refresh-In"


def _bucket(schema: str, uid: int, now: float) -> int:
    """This user's current period; it starts at a different second for each user of
    each Pemda, so consoles do not all re-render at once."""
    offset = zlib.crc32(f"{schema}:{uid}".encode()) % BUCKET_SECONDS
    return int((now + offset) // BUCKET_SECONDS)


def _language(request: HttpRequest) -> str:
    return (request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "") + "|"
            + request.META.get("HTTP_ACCEPT_LANGUAGE", ""))


def _etag(request: HttpRequest, scope: dict[str, Any], versions: str) -> str:
    bucket = _bucket(str(scope["schema"]), int(scope["uid"]), time.time())
    parts = "|".join(
        str(p)
        for p in (
            scope["schema"],
            request.get_full_path(),
            versions,
            scope["uid"],
            scope["role"],
            scope["agency"],
            _language(request),
            bucket,
        )
    )
    digest = hashlib.blake2b(
        parts.encode(), digest_size=12, key=settings.SECRET_KEY.encode()[:64]
    ).hexdigest()
    return f'W/"{digest}"'


def _matches(header: str, tag: str) -> bool:
    return any(t.strip() == tag for t in header.split(","))


def _not_modified(tag: str) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = tag
    add_never_cache_headers(response)
    return response


def _hint_refresh(response: HttpResponse,
                  clocked: tuple[str, float | None] | list[Any] | None) -> HttpResponse:
    """Tell the page when the clock alone will change this fragment: a page on the pushed
    stream (stream.js) skips its polls and would otherwise learn of a ringing call's offer
    window ending only at its next safety poll, up to 30 s late."""
    until = clocked[1] if clocked is not None else None
    if until is not None:
        response[REFRESH_HEADER] = f"{max(0.0, float(until) - time.time()):.1f}"
    return response


def _remember(request: HttpRequest, scope: dict[str, Any], kinds: tuple[str, ...],
              clocked: tuple[str, float | None] | None, heartbeat: bool) -> None:
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key or session_key != request.session.session_key:  # type: ignore[attr-defined]
        return
    host = request.META.get("HTTP_HOST", "")
    old = live.scope_load(host, session_key) or {}
    same = all(old.get(k) == scope[k] for k in ("schema", "uid", "role", "agency"))
    paths = dict(old.get("paths", {})) if same else {}
    extra = dict(old.get("extra", {})) if same else {}
    beats = set(old.get("beats", [])) if same else set()
    paths[request.path] = list(kinds)
    if clocked is not None:
        extra[request.path] = list(clocked)
    if heartbeat:
        beats.add(request.path)
    live.scope_save(host, session_key,
                    {**scope, "paths": paths, "extra": extra, "beats": sorted(beats)},
                    SCOPE_SECONDS)


def conditional(kinds: Iterable[str], *, extra: Extra | None = None,
                heartbeat: bool = False) -> Callable[[ViewFn], ViewFn]:
    """Wrap a polled fragment view, inside its login and role check."""
    kinds = tuple(kinds)

    def decorate(view: ViewFn) -> ViewFn:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user: Any = request.user
            if heartbeat and user.is_authenticated:
                live.heartbeat(current_schema(), int(user.pk))
            # Read before rendering: a write landing during the render changes the
            # counters after this value, and the next poll is answered in full.
            versions = live.versions(kinds)
            if versions is None or request.method != "GET" or not user.is_authenticated:
                return view(request, *args, **kwargs)
            clocked = extra(request) if extra is not None else None
            agency = policies.responder_agency(user) if user.role == Role.OPD_RESPONDER else None
            scope = {
                "schema": current_schema(),
                "uid": int(user.pk),
                "role": str(user.role),
                "agency": agency.pk if agency is not None else "",
            }
            tagged = versions if clocked is None else f"{versions}|{clocked[0]}"
            tag = _etag(request, scope, tagged)
            if _matches(request.META.get("HTTP_IF_NONE_MATCH", ""), tag):
                response = _not_modified(tag)
            else:
                response = view(request, *args, **kwargs)
                if response.status_code != 200:
                    return response
                response["ETag"] = tag
            if versions.startswith("r"):  # the early path reads Redis counters only
                _remember(request, scope, kinds, clocked, heartbeat)
            _hint_refresh(response, clocked)
            return response

        return wrapper

    return decorate


class EarlyNotModifiedMiddleware:
    """First in MIDDLEWARE: a console poll whose fragment has not changed gets its 304
    from Redis alone (see the module's text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        header = request.META.get("HTTP_IF_NONE_MATCH")
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if header and session_key and request.method == "GET":
            scope = live.scope_load(request.META.get("HTTP_HOST", ""), session_key)
            kinds = scope.get("paths", {}).get(request.path) if scope else None
            clocked = scope.get("extra", {}).get(request.path) if scope else None
            # Past the time the clock changes what this view shows: the full path.
            expired = clocked is not None and clocked[1] is not None and time.time() >= clocked[1]
            if scope and kinds and not expired:
                beat = int(scope["uid"]) if request.path in scope.get("beats", ()) else None
                versions = live.redis_versions(str(scope["schema"]), kinds, beat=beat)
                if versions is not None:
                    if clocked is not None:
                        versions = f"{versions}|{clocked[0]}"
                    tag = _etag(request, scope, versions)
                    if _matches(header, tag):
                        return _hint_refresh(_not_modified(tag), clocked)
        return self.get_response(request)
