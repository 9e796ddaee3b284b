"""The signature of a delivery: `X-Helpdesk-Signature: t=<unix time>,v1=<hex>`, where
hex = HMAC-SHA256(secret, f"{t}.{body}") over the exact bytes of the body.

The timestamp is inside the signed text, so a receiver that refuses old timestamps
(docs/webhooks.md: five minutes) also refuses a captured request replayed later; the
`X-Helpdesk-Delivery` id lets it drop a repeat within that window.
"""

import hashlib
import hmac
import json
import secrets
import time

SECRET_PREFIX = "whsec_"


def secret_new() -> str:
    """A fresh shared secret: 256 random bits, prefixed so it is recognisable in a leak."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def body_encode(payload: dict) -> bytes:
    """The request body of a payload: compact UTF-8 JSON (what is signed and sent)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={signature(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *, secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None
) -> bool:
    """What a receiver does (our tests use it; docs/webhooks.md has a standalone copy)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret=secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
