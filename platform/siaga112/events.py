"""The events server: the consoles' pushed changes (incidents.stream), under uvicorn.

    uvicorn siaga112.events:application --port 8001

Everything else stays on the WSGI web server (siaga112.webserver), where a long-lived
stream would hold a thread: this process answers the stream path only (404 for
anything else), through Django's ASGI handler and so through the same middleware as
the console (tenant from the Host, session, second factor). A proxy routes the path
here (infra/nginx.conf); `make demo` runs it on the next port, the browser connecting
there with CORS.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "siaga112.settings")
django_application = get_asgi_application()

# The paths this server answers (incidents.urls "console_stream").
STREAM_PATHS = frozenset({"/console/stream/"})

Scope = dict[str, Any]

# Streams opened at once (consoles reconnecting after a restart) each go through the
# middleware in a thread of their own with a database connection of its own: this many
# at a time, the others wait their turn, so PostgreSQL's connection limit is not the
# limit of how many consoles can reconnect together.
HANDSHAKES = int(os.environ.get("SIAGA112_EVENTS_HANDSHAKES", "8"))
_gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def _gate() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    gate = _gates.get(loop)
    if gate is None:
        gate = _gates[loop] = asyncio.Semaphore(HANDSHAKES)
    return gate


async def _lifespan(receive: Any, send: Any) -> None:
    from incidents import stream

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await stream.hub().close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _not_here(send: Any) -> None:
    body = json.dumps({"error": "Not found.", "code": "not_found", "status": 404}).encode()
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def application(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http" or scope.get("path") not in STREAM_PATHS:
        if scope["type"] == "http":
            await _not_here(send)
        return
    gate = _gate()
    await gate.acquire()
    held = True

    async def send_and_release(message: Mapping[str, Any]) -> None:
        nonlocal held
        await send(message)
        # The first body part: the refusal, or the stream's first event, sent after
        # the request closed its database connection (incidents.views.stream).
        if held and message["type"] == "http.response.body":
            held = False
            gate.release()

    try:
        await django_application(scope, receive, send_and_release)
    finally:
        if held:
            gate.release()
