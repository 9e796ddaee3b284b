"""A small fixed-window rate limiter per client IP, kept in the cache (Redis in production).

Used by the public form and the status look-up. With several web processes the cache
must be shared (Redis); the local-memory cache limits per process only.
"""

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address as the server saw it.

    Behind a reverse proxy, run the ASGI server with proxy headers enabled (daphne
    `--proxy-headers`) so REMOTE_ADDR is the citizen's address; X-Forwarded-For is not
    read here because any client can forge it.
    """
    return request.META.get("REMOTE_ADDR") or "unknown"


def rate_limit_hit(*, scope: str, key: str, limit: int, window_seconds: int = 3600) -> bool:
    """Count one attempt for `key` in `scope`; True when it goes over `limit`.

    `limit` <= 0 disables the check (nothing is counted).
    """
    if limit <= 0:
        return False
    bucket = int(time.time() // window_seconds)
    cache_key = f"ratelimit:{scope}:{key}:{bucket}"
    if cache.add(cache_key, 1, timeout=window_seconds + 60):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.set(cache_key, 1, timeout=window_seconds + 60)
            count = 1
    return count > limit


def request_rate_limited(request: HttpRequest, *, scope: str, limit: int) -> bool:
    """Count this request against the client's hourly allowance for `scope`."""
    return rate_limit_hit(scope=scope, key=client_ip(request), limit=limit)
