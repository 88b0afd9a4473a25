"""The outbox's knobs: defaults here, overrides in settings.OUTBOX (read at call
time, so a test or an operator can change them without a restart of the module)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Attempts before a message is given up ("dead"): ~10 h of trying in total.
    "MAX_ATTEMPTS": 10,
    # Backoff after the n-th failed attempt: BASE * FACTOR**(n-1), capped.
    "BACKOFF_BASE_SECONDS": 10.0,
    "BACKOFF_FACTOR": 3.0,
    "BACKOFF_MAX_SECONDS": 3600.0,
    # A row left in "sending" this long belongs to a worker that died.
    "STALE_SENDING_SECONDS": 300.0,
    # The sweep leaves fresh pending rows alone this long: their own after-commit
    # task is normally already on its way.
    "SWEEP_GRACE_SECONDS": 5.0,
    "WEBHOOK_TIMEOUT_SECONDS": 5.0,
    # Kept short: enqueueing runs in the request that committed the dispatch.
    "BROKER_PUBLISH_RETRIES": 1,
    # Sent and dead messages are deleted this long after they were written.
    "RETENTION_DAYS": 30,
}


def outbox_setting(name: str) -> Any:
    overrides: dict[str, Any] = getattr(settings, "OUTBOX", {}) or {}
    return overrides.get(name, DEFAULTS[name])
