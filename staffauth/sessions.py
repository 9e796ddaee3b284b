"""What a staff session remembers about its own sign-in, kept in the session itself so
that the checks on each request cost no query: when it began, when it was last active,
whether the user has a second factor."""

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from staffauth.models import StaffSession
from staffauth.selectors import mfa_required_for, user_has_factor

SIGNED_IN_AT = "staffauth_signed_in_at"
LAST_SEEN = "staffauth_last_seen"
HAS_FACTOR = "staffauth_has_factor"
REGISTERED_KEY = "staffauth_session_key"
# Last activity is written at most this often: a session save on every request would
# be a database write per page for nothing.
LAST_SEEN_RESOLUTION_SECONDS = 60


def session_start(request: HttpRequest, user: AbstractBaseUser) -> None:
    """Stamp and register a staff session; runs on `user_logged_in` (staffauth/apps.py).

    HAS_FACTOR stays true for the life of the session: enrolling or removing a factor
    and a reset end the user's other sessions (services), so it cannot go stale.
    """
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[HAS_FACTOR] = user_has_factor(user)
    session_register(request, user)


def session_register(request: HttpRequest, user: AbstractBaseUser) -> None:
    key = request.session.session_key
    if key is None:
        request.session.save()
        key = request.session.session_key
    StaffSession.objects.update_or_create(session_key=key, defaults={"user": user})
    request.session[REGISTERED_KEY] = key
    # Rows of sessions that expired without a sign-out: gone from the store by now.
    too_old = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    StaffSession.objects.filter(user=user, created_at__lt=too_old).delete()


def session_forget(request: HttpRequest) -> None:
    """On sign-out (before the session is flushed)."""
    key = request.session.get(REGISTERED_KEY)
    if key:
        StaffSession.objects.filter(session_key=key).delete()


def session_expiry_reason(request: HttpRequest, user: AbstractBaseUser) -> str | None:
    """ "idle" or "lifetime" when this staff session must end; else None.

    A session opened before this check existed starts its clocks at its first request.
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
    if session.get(REGISTERED_KEY) != session.session_key:
        # Re-keyed without a new sign-in: a password change (update_session_auth_hash).
        session_register(request, user)
    if now - session.get(LAST_SEEN, 0) >= LAST_SEEN_RESOLUTION_SECONDS:
        session[LAST_SEEN] = now
    return None


def session_has_factor(request: HttpRequest, user: AbstractBaseUser) -> bool:
    if HAS_FACTOR not in request.session:
        request.session[HAS_FACTOR] = user_has_factor(user)
    return request.session[HAS_FACTOR]


def session_may_work(session: SessionBase, user: AbstractBaseUser) -> bool:
    """What StaffMFAMiddleware and StaffSessionMiddleware demand of a page, for a staff
    session used outside the request cycle (the chat console's websocket).

    False when the session is gone from the store ("sign out everywhere", a reset), has
    outlived STAFF_SESSION_MAX_HOURS, or lacks the second factor the user has or must
    have. Idle time is left to the pages: a console busy with chats is not idle.
    """
    if session.session_key is None or not session.exists(session.session_key):
        return False
    signed_in_at = session.get(SIGNED_IN_AT)
    if signed_in_at is not None and (
        int(time.time()) - signed_in_at > settings.STAFF_SESSION_MAX_HOURS * 3600
    ):
        return False
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if persistent_id:
        device = Device.from_persistent_id(persistent_id)
        if device is not None and device.user_id == user.pk and device.confirmed:
            return True
    if user_has_factor(user):
        return False
    return not mfa_required_for(user)
