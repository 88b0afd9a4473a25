"""Webhook signatures, for the sender and for receivers (and their tests).

`X-Siaga112-Signature: sha256=<hex HMAC-SHA256 of the raw request body>`, keyed
with the receiver's shared secret. Receivers verify the exact bytes they got,
before parsing JSON, and dedupe on `X-Siaga112-Delivery`.
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
