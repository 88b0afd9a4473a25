"""Rate limits in Redis, shared by every host and every server process.

django-axes locks a (username, address) pair on one Pemda's host after a few
wrong passwords; a call center's operators share one NAT address, so that is
all it may do. What axes cannot see is one address trying many usernames, on
many hosts: that is counted here, per address and across all hosts, together
with PBX key failures, requests per PBX key and GraphQL requests.

Fixed windows (INCR + EXPIRE on `throttle:<rule>:<who>:<window>`): simple, one
round trip, and good enough for limits that are about orders of magnitude.
If Redis does not answer, requests pass: a 112 center must keep taking calls
without its rate limiter.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from siaga112.error_pages import error_response

logger = logging.getLogger(__name__)

LOGIN_PATH = "/accounts/login/"  # siaga112.urls_common, the same on every host
PBX_PREFIX = "/api/pbx/"
GRAPHQL_PATH = "/graphql/"

_clients: dict[str, redis.Redis] = {}


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    window: int  # seconds


def rule(name: str) -> Rule:
    limit, window = cast(tuple[int, int], settings.THROTTLE[name])
    return Rule(name, int(limit), int(window))


def _redis() -> redis.Redis:
    url = settings.REDIS_URL.replace("redis+socket://", "unix://", 1)
    client = _clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _clients[url] = client
    return client


def _key(r: Rule, who: str, now: float) -> tuple[str, int]:
    window = int(now // r.window)
    retry_after = max(1, math.ceil((window + 1) * r.window - now))
    return f"throttle:{r.name}:{who}:{window}", retry_after


def blocked(r: Rule, who: str) -> int | None:
    """Seconds until `who` may try again, if the rule's limit is used up; else None."""
    key, retry_after = _key(r, who, time.time())
    try:
        count = _redis().get(key)
    except redis.RedisError:
        logger.warning("throttle.redis_unavailable", extra={"rule": r.name})
        return None
    return retry_after if count is not None and int(count) >= r.limit else None


def hit(r: Rule, who: str) -> int | None:
    """Count one event; seconds to wait if that went over the limit, else None."""
    key, retry_after = _key(r, who, time.time())
    try:
        pipe = _redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, r.window + 1)
        count = int(pipe.execute()[0])
    except redis.RedisError:
        logger.warning("throttle.redis_unavailable", extra={"rule": r.name})
        return None
    return retry_after if count > r.limit else None


# One round trip for a PBX request: is the address over its failure limit; if not,
# is the key over its request limit; if not, count this request against the key.
# Returns {verdict, count}: 0 = go on (the key's counter was incremented),
# 1 = the address is blocked, 2 = the key is over its limit (nothing counted).
_PBX_GATE = """
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures >= tonumber(ARGV[1]) then return {1, failures} end
if #KEYS < 2 then return {0, 0} end
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used >= tonumber(ARGV[2]) then return {2, used} end
used = redis.call('INCR', KEYS[2])
if used == 1 then redis.call('EXPIRE', KEYS[2], ARGV[3]) end
return {0, used}
"""
_scripts: dict[int, object] = {}


def pbx_gate(failures: Rule, ip: str, per_key: Rule, key_id: str | None, now: float
             ) -> tuple[int, int | None]:
    """(verdict, retry_after) for a PBX request, in one Redis round trip (a Lua
    script: atomic, so no two requests both take the last unit of a quota)."""
    fail_key, fail_retry = _key(failures, ip, now)
    keys = [fail_key]
    key_retry = None
    if key_id is not None:
        per_key_key, key_retry = _key(per_key, key_id, now)
        keys.append(per_key_key)
    try:
        client = _redis()
        script = _scripts.get(id(client))
        if script is None:
            script = _scripts[id(client)] = client.register_script(_PBX_GATE)
        verdict, _count = script(keys=keys, args=[failures.limit, per_key.limit,  # type: ignore[operator]
                                                  per_key.window + 1])
    except redis.RedisError:
        logger.warning("throttle.redis_unavailable", extra={"rule": failures.name})
        return 0, None
    if int(verdict) == 1:
        return 1, fail_retry
    if int(verdict) == 2:
        return 2, key_retry
    return 0, None


def pbx_refused(failures: Rule, ip: str, per_key: Rule, key_id: str | None, now: float
                ) -> None:
    """After a 401: count the failure against the address, and give back the unit
    the key was charged before the view ran (whoever knows a PBX's public prefix but
    not its secret must not use up that PBX's quota). One round trip. `now` is the
    gate's, so the unit goes back to the window it was taken from."""
    fail_key, _ = _key(failures, ip, time.time())
    try:
        pipe = _redis().pipeline(transaction=False)
        pipe.incr(fail_key)
        pipe.expire(fail_key, failures.window + 1)
        if key_id is not None:
            charged = _key(per_key, key_id, now)[0]
            pipe.decr(charged)
            pipe.expire(charged, per_key.window + 1)  # never a key without expiry
        pipe.execute()
    except redis.RedisError:
        logger.warning("throttle.redis_unavailable", extra={"rule": failures.name})


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or with THROTTLE['PROXY_COUNT'] = n trusted proxies in front,
    the address the nearest of them saw (n-th from the right in X-Forwarded-For)."""
    proxies = int(cast(int, settings.THROTTLE.get("PROXY_COUNT", 0)))
    if proxies > 0:
        forwarded = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",")
                     if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _pbx_key_id(request: HttpRequest) -> str | None:
    """The public prefix of a presented PBX key (pbx_<prefix>_<secret>), never the secret."""
    header = request.headers.get("Authorization", "")
    parts = header.removeprefix("Bearer ").strip().split("_", 2)
    if len(parts) == 3 and parts[0] == "pbx" and parts[1]:
        return parts[1][:32]
    return None


def too_many(request: HttpRequest, retry_after: int, r: Rule) -> HttpResponse:
    logger.warning("throttle.limited", extra={"rule": r.name, "path": request.path})
    return error_response(request, 429, retry_after=retry_after)


class ThrottleMiddleware:
    """Before the view: refuse what is over its limit (429 + Retry-After, JSON for
    API clients, a page for browsers). After it: count what failed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not settings.THROTTLE.get("ENABLED", True):
            return self.get_response(request)
        path = request.path
        if path == LOGIN_PATH and request.method == "POST":
            return self._login(request)
        if path.startswith(PBX_PREFIX):
            return self._pbx(request)
        if path == GRAPHQL_PATH:
            r = rule("GRAPHQL_REQUESTS_PER_IP")
            wait = hit(r, client_ip(request))
            if wait is not None:
                return too_many(request, wait, r)
        return self.get_response(request)

    def _login(self, request: HttpRequest) -> HttpResponse:
        r = rule("LOGIN_FAILURES_PER_IP")
        ip = client_ip(request)
        wait = blocked(r, ip)
        if wait is not None:
            return too_many(request, wait, r)
        response = self.get_response(request)
        # A failed login shows the form again (200); success redirects; axes' lockout
        # answers with its own status. Only the first counts as a failure here.
        if response.status_code == 200:
            hit(r, ip)
        return response

    def _pbx(self, request: HttpRequest) -> HttpResponse:
        # One Redis round trip on the way in (pbx_gate), none on the way out unless
        # the key was refused: a PBX event used to cost three.
        failures = rule("PBX_KEY_FAILURES_PER_IP")
        per_key = rule("PBX_REQUESTS_PER_KEY")
        ip = client_ip(request)
        key_id = _pbx_key_id(request)
        now = time.time()
        verdict, wait = pbx_gate(failures, ip, per_key, key_id, now)
        if verdict and wait is not None:
            return too_many(request, wait, failures if verdict == 1 else per_key)
        response = self.get_response(request)
        if response.status_code == 401:
            pbx_refused(failures, ip, per_key, key_id, now)
        return response
