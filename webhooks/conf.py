"""Webhook knobs: defaults here, overrides in settings.WEBHOOKS (read at call time).
Retry timing (backoff, attempts, timeout) is the outbox's: settings.OUTBOX."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Production: only https URLs whose host resolves to public addresses (no SSRF
    # into the platform's own network). Development and tests turn these on for a
    # receiver on 127.0.0.1.
    "ALLOW_PRIVATE_ADDRESSES": False,
    "ALLOW_HTTP_LOCALHOST": False,
    "MAX_SUBSCRIPTIONS_PER_OWNER": 20,
}


def webhook_setting(name: str) -> Any:
    overrides: dict[str, Any] = getattr(settings, "WEBHOOKS", {}) or {}
    return overrides.get(name, DEFAULTS[name])
