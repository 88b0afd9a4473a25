"""/healthz/ on every host: 200 when PostgreSQL and Redis answer, else 503
naming the part that failed, so a load balancer and a person both know."""

from __future__ import annotations

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

logger = logging.getLogger(__name__)


def _check_postgres() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        return f"postgres: {type(exc).__name__}"


def _check_redis() -> str | None:
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL.replace("redis+socket://", "unix://", 1),
            socket_connect_timeout=1,
            socket_timeout=1,
        )
        client.ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"redis: {type(exc).__name__}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    failures = [f for f in (_check_postgres(), _check_redis()) if f]
    tenant = getattr(request, "tenant", None)
    body = {
        "status": "fail" if failures else "ok",
        "schema": getattr(tenant, "schema_name", None),
        "failing": failures,
    }
    if failures:
        logger.warning("healthz.failed", extra={"failing": failures})
    return JsonResponse(body, status=503 if failures else 200)
