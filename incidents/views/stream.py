"""The pushed consoles' event stream (incidents.stream), served by the events server.

Reached through the whole middleware chain like any console request: the tenant from
the Host (tenants.hosts), the session, the second factor (accounts.middleware), then
the role here. What it sends is only "this Pemda's <kind> list changed, counter N";
the fragments themselves are fetched as before, each with its own role check.

The route also exists on the WSGI web server (siaga112.webserver), where a stream would hold a
thread for as long as the console stays open: there it answers at once with an
`unavailable` event, and the browser keeps polling (incidents/stream.js).
"""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import urlsplit

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from core.errors import Forbidden, Unavailable
from incidents import policies, stream

# A stream ends after about this long and the browser opens a new one, so a signed-out
# session, a changed role or a removed domain stops receiving events within it.
LIFETIME_SECONDS = 300.0


def _error(refusal: Forbidden | Unavailable, request: HttpRequest) -> HttpResponseBase:
    return _cors(request, JsonResponse(refusal.as_json(), status=refusal.error_status()))


def allowed_origin(request: HttpRequest) -> str:
    """The page origin that may open this stream from another port (the demo, where the
    events server listens beside the web server): the same scheme and host name as this
    request, on the platform's public port. Empty when the events server shares the
    pages' origin (path routing, production)."""
    if not settings.SIAGA112.get("EVENTS_PORT"):
        return ""
    host = urlsplit(f"//{request.get_host()}").hostname or ""
    port = str(settings.SIAGA112.get("PUBLIC_PORT") or "")
    scheme = "https" if request.is_secure() else "http"
    default = {"http": "80", "https": "443"}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def _cors(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    origin = request.headers.get("Origin", "")
    expected = allowed_origin(request)
    if expected and origin == expected:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Credentials"] = "true"
        response["Vary"] = "Origin"
    return response


def _user_of(request: HttpRequest) -> Any:
    user = request.user
    _ = user.is_authenticated and user.role  # evaluated here, not in the event loop
    return user


def _event_stream(body: Any) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    add_never_cache_headers(response)
    # nginx would otherwise buffer the events until its buffer fills.
    response["X-Accel-Buffering"] = "no"
    return response


async def _hub_ready() -> Any:
    """The process's hub, subscribed (it lives in the server's event loop)."""
    source = stream.hub()
    await source.ready()
    return source


def console_stream(request: HttpRequest) -> HttpResponseBase:
    # A sync view on purpose: under the events server (ASGI) Django runs it in the
    # request's own thread (the one whose connection has the tenant's search_path) and
    # then consumes the async body in the event loop; under WSGI it needs no event loop
    # at all (an async view there goes through async_to_sync, which refuses to run in a
    # thread that already has a loop, e.g. a test process driving Playwright).
    if request.method != "GET":
        response = JsonResponse({"error": _("Only GET is allowed."), "code": "method_not_allowed",
                                 "status": 405}, status=405)
        response["Allow"] = "GET"
        return response
    user = _user_of(request)
    if not user.is_authenticated or not user.is_active:
        return _error(Forbidden(_("Sign in to follow the console."), code="not_signed_in",
                                status=401), request)
    if not policies.can_view_incidents(user):
        return _error(Forbidden(), request)
    schema = request.tenant.schema_name  # type: ignore[attr-defined]
    if not isinstance(request, ASGIRequest):
        once = "retry: 60000\nevent: unavailable\ndata: {}\n\n"
        return _cors(request, _event_stream([once]))
    try:
        source = async_to_sync(_hub_ready)()
    except stream.StreamUnavailable:
        return _error(Unavailable(), request)
    lifetime = LIFETIME_SECONDS * random.uniform(0.8, 1.0)  # noqa: S311 - spreads reconnects
    heartbeat = float(str(settings.SIAGA112.get("EVENTS_HEARTBEAT_SECONDS") or 20))
    ready = f"event: ready\ndata: {json.dumps({'heartbeat': heartbeat})}\n\n"

    async def body() -> Any:
        # The request's database connection (session, user) would otherwise stay open
        # for the whole stream: 500 consoles, 500 PostgreSQL connections. Closed in the
        # request's own thread, once every middleware has answered.
        await sync_to_async(connections.close_all)()
        yield ready
        async for chunk in stream.events(source, schema, heartbeat=heartbeat,
                                         lifetime=lifetime):
            yield chunk

    return _cors(request, _event_stream(body()))


def stream_url(request: HttpRequest) -> str:
    """Where this page's browser opens the stream: the same origin (a proxy routes the
    path to the events server), or the events server's own port on this host."""
    port = settings.SIAGA112.get("EVENTS_PORT")
    if not port:
        return "/console/stream/"
    host = urlsplit(f"//{request.get_host()}").hostname or ""
    scheme = "https" if request.is_secure() else "http"
    return f"{scheme}://{host}:{port}/console/stream/"


class StreamUrlMiddleware:
    """After CSPMiddleware: tells the page where its stream is (request.console_stream_url,
    read by incidents/layout.html) and, when that is another port, lets the page connect
    there (CSP connect-src gets that one origin, for this response only)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        url = stream_url(request)
        request.console_stream_url = url  # type: ignore[attr-defined]
        response: HttpResponse = self.get_response(request)
        if url.startswith("http"):
            origin = url[: -len("/console/stream/")]
            response._csp_update = {"connect-src": [origin]}  # type: ignore[attr-defined]
        return response
