"""A small in-process cache with a time-to-live, for rows read on every request
(a host's tenant, a PBX key) that change rarely.

Each server process keeps its own copy. A change made in this process clears the
entry at once (the owner connects model signals or calls `discard`/`clear`); a
change made in another process is seen after at most `LOCAL_CACHE_SECONDS`
(settings.SIAGA112), which bounds how long a revoked PBX key or a removed domain
keeps working anywhere. Never negative: a miss is never cached, so a new domain or
a new key works on its first request.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar, cast

from django.conf import settings

K = TypeVar("K")
V = TypeVar("V")

DEFAULT_SECONDS = 5.0
_all: list[TtlCache[object, object]] = []


def clear_all() -> None:
    """Forget every cached row in this process (the test suite does after each test,
    whose rows a rollback may have undone)."""
    for cache in _all:
        cache.clear()


def local_cache_seconds() -> float:
    return float(cast(dict[str, object], settings.SIAGA112).get(
        "LOCAL_CACHE_SECONDS", DEFAULT_SECONDS))  # type: ignore[arg-type]


class TtlCache(Generic[K, V]):
    def __init__(self) -> None:
        self._data: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()
        _all.append(self)  # type: ignore[arg-type]

    def get(self, key: K) -> V | None:
        hit = self._data.get(key)
        if hit is None:
            return None
        expires, value = hit
        if time.monotonic() >= expires:
            self._data.pop(key, None)
            return None
        return value

    def set(self, key: K, value: V) -> None:
        seconds = local_cache_seconds()
        if seconds <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic() + seconds, value)

    def discard(self, key: K) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
