"""What a staff session remembers about its own sign-in: when, last activity, generation."""

import time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest

from staffauth.selectors import session_generation

SIGNED_IN_AT = "staffauth_signed_in_at"
LAST_SEEN = "staffauth_last_seen"
GENERATION = "staffauth_generation"
# Last activity is written at most this often: a session save on every request would
# be a database write per page for nothing.
LAST_SEEN_RESOLUTION_SECONDS = 60


def session_start(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Call right after django.contrib.auth.login() for a staff user."""
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[GENERATION] = session_generation(user)


def session_expiry_reason(request: HttpRequest, user: AbstractBaseUser) -> str | None:
    """ "idle", "lifetime" or "revoked" when this staff session must end; else None.

    A session opened before this check existed (or by `force_login`) starts its clocks
    at its first request.
    """
    session = request.session
    now = int(time.time())
    if SIGNED_IN_AT not in session:
        session_start(request, user)
        return None
    if now - session[SIGNED_IN_AT] > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return "lifetime"
    if now - session.get(LAST_SEEN, 0) > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return "idle"
    if session.get(GENERATION, 0) < session_generation(user):
        return "revoked"
    if now - session.get(LAST_SEEN, 0) >= LAST_SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN] = now
    return None
