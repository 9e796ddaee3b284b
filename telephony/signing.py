"""The CTI webhook's authentication: `X-CTI-Timestamp` (unix seconds) and
`X-CTI-Signature` = hex HMAC-SHA256 of `<timestamp>.<raw body>` with CTI_SECRET.

Zammad's generic CTI trusts a token in the URL, which ends up in access logs and
proxies; a signature over the body and a timestamp proves the sender knows the secret,
that the body is unchanged, and (with the replay window) that it is fresh.
"""

import hashlib
import hmac
import time

from django.core.cache import cache

# A signed event older (or further in the future) than this is refused; a signature
# already seen within it is a replay.
REPLAY_WINDOW_SECONDS = 300


def cti_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """What the phone platform sends in X-CTI-Signature."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def cti_signature_valid(
    *, secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> bool:
    """Right signature (constant-time compare), fresh timestamp, never seen before.

    The signature is remembered for the replay window only after it checked out, so
    forged requests cannot fill the cache, and a replay of a real one is refused."""
    if not secret or not timestamp or not signature:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > REPLAY_WINDOW_SECONDS:
        return False
    expected = cti_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        return False
    # First sight wins (cache.add is atomic in Redis and locmem).
    return cache.add(f"cti:seen:{expected}", 1, timeout=2 * REPLAY_WINDOW_SECONDS + 60)


def cti_signature_forget(*, secret: str, timestamp: str, body: bytes) -> None:
    """Let the same signed event be sent again (its processing failed: a retry must work)."""
    cache.delete(f"cti:seen:{cti_signature(secret=secret, timestamp=timestamp, body=body)}")
