"""A small fixed-window rate limiter per client address, kept in the cache (Redis in
production).

Used by the public form and the status look-up. With several web processes the cache
must be shared (Redis); the local-memory cache limits per process only.
"""

import time

from django.core.cache import cache
from django.http import HttpRequest

from helpdesk.client_address import address_key, client_address_from_request


def client_ip(request: HttpRequest) -> str:
    """The client's address: the socket peer, or behind the proxies named in
    TRUSTED_PROXIES the right-most untrusted X-Forwarded-For hop
    (`helpdesk/client_address.py`). A forged X-Forwarded-For changes nothing."""
    return client_address_from_request(request)


def rate_limit_key(request: HttpRequest) -> str:
    """What per-client limits count by: the IPv4 address, or the IPv6 client's /64."""
    return address_key(client_ip(request))


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
    return rate_limit_hit(scope=scope, key=rate_limit_key(request), limit=limit)
