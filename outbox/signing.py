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
