"""Pushed consoles: the change counters (incidents.live) as server-sent events.

A bump of a Pemda's counter publishes "<kind> <counter>" on that Pemda's Redis channel
(live.channel). Each events-server process (siaga112.events, under uvicorn) holds ONE
Redis connection subscribed to every Pemda's channel and hands each message to the
streams of that Pemda open in the process; a console stream is an asyncio queue, not
a Redis connection. An event says only that a list of the Pemda changed: the browser
then fetches its fragments with their ETags as a poll would, so who may see what is
still decided by the fragment views alone.

When Redis goes away the hub ends every stream (the browsers fall back to polling and
reconnect with backoff) and refuses new ones until it is subscribed again: a stream
that silently missed a change would be worse than polling.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from django.conf import settings

from incidents import live

logger = logging.getLogger(__name__)

# A console's queue; a console that falls this far behind loses the oldest events,
# harmless because any event makes it refetch everything the counters cover.
QUEUE_EVENTS = 32
# After a lost subscription, wait this long before the next try (doubling, capped).
RETRY_SECONDS = (0.5, 10.0)
# Stands in the queue for "the hub lost Redis: end the stream".
_END = ("", 0)


class StreamUnavailable(Exception):
    """The hub has no Redis subscription now."""


class Hub:
    """One subscription per process and event loop, fanned out to the open streams."""

    def __init__(self) -> None:
        self._streams: dict[str, set[asyncio.Queue[tuple[str, int]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def open_streams(self) -> int:
        return sum(len(s) for s in self._streams.values())

    async def ready(self, wait: float = 2.0) -> None:
        """Subscribed (waiting up to `wait` seconds), else StreamUnavailable."""
        self._start()
        if not self._subscribed.is_set():
            try:
                await asyncio.wait_for(self._subscribed.wait(), wait)
            except TimeoutError:
                raise StreamUnavailable from None

    def join(self, schema: str) -> asyncio.Queue[tuple[str, int]]:
        queue: asyncio.Queue[tuple[str, int]] = asyncio.Queue(QUEUE_EVENTS)
        if not self._subscribed.is_set():
            # Lost since ready(): this stream would miss changes, so it ends at once.
            queue.put_nowait(_END)
            return queue
        self._streams.setdefault(schema, set()).add(queue)
        return queue

    def leave(self, schema: str, queue: asyncio.Queue[tuple[str, int]]) -> None:
        streams = self._streams.get(schema)
        if streams is not None:
            streams.discard(queue)
            if not streams:
                del self._streams[schema]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run())

    def _deliver(self, schema: str, item: tuple[str, int]) -> None:
        for queue in self._streams.get(schema, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(item)

    def _end_all(self) -> None:
        for schema, streams in list(self._streams.items()):
            for queue in streams:
                while queue.full():
                    queue.get_nowait()
                queue.put_nowait(_END)
            del self._streams[schema]

    async def _run(self) -> None:
        url = settings.REDIS_URL.replace("redis+socket://", "unix://", 1)
        delay = RETRY_SECONDS[0]
        prefix = live.channel_prefix()
        while True:
            client = aioredis.Redis.from_url(url, socket_connect_timeout=2,
                                             health_check_interval=15)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(prefix + "*")
                self._subscribed.set()
                delay = RETRY_SECONDS[0]
                logger.info("stream.subscribed")
                async for message in pubsub.listen():
                    if message.get("type") != "pmessage":
                        continue
                    channel = _text(message["channel"])
                    kind, _, value = _text(message["data"]).partition(" ")
                    if kind in live.KINDS and value.isdigit():
                        self._deliver(channel[len(prefix):], (kind, int(value)))
                raise aioredis.ConnectionError("subscription ended")
            except asyncio.CancelledError:
                self._subscribed.clear()
                self._end_all()
                raise
            except (aioredis.RedisError, OSError):
                logger.warning("stream.redis_unavailable")
                self._subscribed.clear()
                self._end_all()
            finally:
                try:
                    await pubsub.aclose()
                    await client.aclose()
                except (aioredis.RedisError, OSError):
                    pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_SECONDS[1])


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """This event loop's hub (uvicorn runs one loop per process)."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for old in [old for old in _hubs if old.is_closed()]:
            del _hubs[old]
        found = _hubs[loop] = Hub()
    return found


async def events(source: Hub, schema: str, *, heartbeat: float,
                 lifetime: float) -> AsyncIterator[str]:
    """The text/event-stream of one console: a comment on opening (so proxies and the
    browser see the stream at once), a `change` event per counter bump, a comment every
    `heartbeat` seconds so idle streams are not cut, and the end after `lifetime` (the
    browser reconnects, and the session and role are checked again)."""
    loop = asyncio.get_running_loop()
    ends_at = loop.time() + lifetime
    # Joined when the response starts streaming, left however it ends.
    queue = source.join(schema)
    try:
        yield f"retry: 2000\n: {schema}\n\n"
        while True:
            left = ends_at - loop.time()
            if left <= 0:
                return
            try:
                kind, value = await asyncio.wait_for(queue.get(), min(heartbeat, left))
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            if (kind, value) == _END:
                return
            yield f'event: change\ndata: {{"kind": "{kind}", "n": {value}}}\n\n'
    finally:
        source.leave(schema, queue)
