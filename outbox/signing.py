"""Webhook signatures, for the sender and for receivers (and their tests).

`X-Siaga112-Signature: sha256=<hex HMAC-SHA256 of the raw request body>`, keyed
with the receiver's shared secret. Receivers verify the exact bytes they got,
before parsing JSON, and dedupe on `X-Siaga112-Delivery`.

What a receiver gets (POST, Content-Type: application/json):
  headers  X-Siaga112-Signature, X-Siaga112-Delivery (the dedupe key, the same on
           every retry), X-Siaga112-Timestamp (unix seconds of this attempt)
  body     {"id": <dedupe key>, "event": <subject>, "created_at": <ISO 8601 UTC>,
            "data": <payload>}
Answer 2xx to accept; anything else (or no answer within 5 s) is retried with
backoff (10 s, 30 s, 90 s …) up to 10 attempts. A retry after a crash between
sending and recording can repeat a delivery: drop repeats by the delivery id.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The value of the X-Siaga112-Signature header for `body`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    """True when `signature` (the header value) matches `body` under `secret`.
    Constant-time comparison; an empty secret never verifies."""
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(body, secret), signature.strip())


# --- subscriber webhooks: the signature covers the timestamp too ---------------------
#
# Subscriber deliveries (webhooks/) send `X-Siaga112-Timestamp: <unix seconds>` and
# `X-Siaga112-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`. With
# the timestamp signed, a captured request cannot be replayed later: receivers
# refuse a timestamp older than a few minutes.

DEFAULT_TOLERANCE_SECONDS = 300


def signed_content(body: bytes, timestamp: int | str) -> bytes:
    return str(timestamp).encode("ascii") + b"." + body


def sign_timestamped(body: bytes, secret: str, timestamp: int | str) -> str:
    """The X-Siaga112-Signature value for `body` sent at `timestamp`."""
    return sign(signed_content(body, timestamp), secret)


def verify_timestamped(
    body: bytes,
    secret: str,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when the signature matches `timestamp.body` and the timestamp is within
    `tolerance` seconds of `now` (unix seconds)."""
    if not timestamp or not timestamp.strip().isdigit():
        return False
    if abs(now - int(timestamp)) > tolerance:
        return False
    return verify(signed_content(body, timestamp.strip()), secret, signature)
