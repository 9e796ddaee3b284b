"""Per-token rate limit (API_RATE_LIMIT requests a minute) in the shared cache, so it
holds across web processes; over it, 429 with Retry-After until the window ends."""

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from api.access import request_token
from tickets.ratelimit import rate_limit_hit, rate_limit_key

WINDOW_SECONDS = 60


class ApiRateThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        limit = settings.API_RATE_LIMIT
        if limit <= 0:
            return True
        token = request_token(request)
        if token is not None:
            key = f"token:{token.pk}"
        elif request.user and request.user.is_authenticated:
            key = f"user:{request.user.pk}"
        else:
            key = f"addr:{rate_limit_key(request._request)}"
        return not rate_limit_hit(scope="api", key=key, limit=limit, window_seconds=WINDOW_SECONDS)

    def wait(self) -> float:
        # Fixed windows (tickets.ratelimit): the count starts again at the next boundary.
        return max(1, WINDOW_SECONDS - int(time.time()) % WINDOW_SECONDS)
