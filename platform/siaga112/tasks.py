"""Platform-level tasks."""

from __future__ import annotations

import json
import socket

import redis
from celery import shared_task
from django.conf import settings

from tenants.db import current_schema

WORKER_PING_TTL = 300


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL.replace("redis+socket://", "unix://", 1))


@shared_task(name="siaga112.worker_ping")
def worker_ping(token: str) -> None:
    """Record which schema the worker ran this task in: proves end to end that a
    worker is consuming and that tenant routing of tasks works."""
    redis_client().set(
        f"siaga112:ping:{token}",
        json.dumps({"schema": current_schema(), "worker": socket.gethostname()}),
        ex=WORKER_PING_TTL,
    )
