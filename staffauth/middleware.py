"""Staff-only checks on every request: session lifetime, then the second factor.

Both run after AuthenticationMiddleware and django-otp's OTPMiddleware; citizens (no
staff account) pass straight through.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from staffauth.selectors import mfa_required_for
from staffauth.sessions import session_expiry_reason, session_has_factor


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


class StaffSessionMiddleware:
    """Signs staff out after STAFF_SESSION_IDLE_MINUTES idle or STAFF_SESSION_MAX_HOURS in
    all. ("Sign out everywhere" and resets delete sessions from the store instead.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_staff(request):
            reason = session_expiry_reason(request, request.user)
            if reason is not None:
                logout(request)
                messages.info(request, _("You were signed out. Please sign in again."))
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return self.get_response(request)


class StaffMFAMiddleware:
    """No staff page without the second factor.

    A staff user whose session is not verified by a factor is sent to the code step
    when they have one, or to enrolment when STAFF_MFA_REQUIRED applies to them. Only
    the sign-in, sign-out, enrolment, language and static addresses stay open.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _is_staff(request) and not _is_open_path(request.path):
            user = request.user
            if not user.is_verified():
                if session_has_factor(request, user):
                    query = urlencode({"next": request.get_full_path()})
                    return HttpResponseRedirect(f"{reverse('staffauth:verify')}?{query}")
                if mfa_required_for(user):
                    return HttpResponseRedirect(reverse("staffauth:security"))
        return self.get_response(request)


def _is_open_path(path: str) -> bool:
    open_paths = (
        reverse("admin:login"),
        reverse("admin:logout"),
        reverse("staffauth:security"),
        reverse("set_language"),
        settings.STATIC_URL,
        "/healthz",
    )
    return path.startswith(open_paths)
