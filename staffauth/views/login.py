"""The admin's sign-in in two steps: the password (Django's admin form), then a code or
a security key (staffauth/views/webauthn.py).

The user is signed in (django.contrib.auth.login) only after the second step, so a
password alone never yields a session, and `user_logged_in` (which resets the axes
counters and is what the audit log records) fires once per real sign-in.
"""

import time

from axes.handlers.proxy import AxesProxyHandler
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.models import Device

from staffauth.forms import CodeForm
from staffauth.lockout import lockout_response
from staffauth.selectors import user_has_factor, user_has_key, user_totp_devices
from staffauth.services import second_factor_verify
from staffauth.sessions import HAS_FACTOR

PENDING = "staffauth_pending"
# The code must follow the password within this time.
PENDING_SECONDS = 300


class PasswordStepView(LoginView):
    """Django admin's login, except that a user with a factor is not signed in yet."""

    form_class = AdminAuthenticationForm
    template_name = "admin/login.html"

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method == "GET" and admin.site.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        request.current_app = admin.site.name
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context.update(
            admin.site.each_context(self.request),
            title=_("Log in"),
            subtitle=None,
            app_path=self.request.get_full_path(),
            username=self.request.user.get_username(),
        )
        if not context.get(REDIRECT_FIELD_NAME):
            context[REDIRECT_FIELD_NAME] = reverse("admin:index")
        return context

    def form_valid(self, form: AdminAuthenticationForm) -> HttpResponse:
        user = form.get_user()
        if user_has_factor(user):
            self.request.session[PENDING] = {
                "user": user.pk,
                "backend": user.backend,
                "at": int(time.time()),
                "next": self.get_success_url(),
            }
            return HttpResponseRedirect(reverse("staffauth:verify"))
        auth_login(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


def verify_step(request: HttpRequest) -> HttpResponse:
    """Second step: a TOTP or recovery code, after the password (or for a signed-in
    session that has not proved a factor yet)."""
    user, pending = user_to_verify(request)
    if user is None:
        if request.user.is_authenticated:
            # Signed in, and no factor (any more): nothing to verify.
            request.session[HAS_FACTOR] = False
            return HttpResponseRedirect(_next_url(request, None))
        return redirect("admin:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not sign_in_allowed(request, user):
            credentials = {"username": user.get_username()}
            return lockout_response(request, None, credentials)
        device = second_factor_verify(user=user, token=form.cleaned_data["code"])
        if device is not None:
            return HttpResponseRedirect(sign_in_complete(request, user, device, pending))
        sign_in_failed(request, user)
        form.add_error("code", _("The code is wrong or has expired. Try again."))
    context = {
        **admin.site.each_context(request),
        "title": _("Second factor"),
        "form": form,
        "verifying_user": user,
        "has_totp": bool(user_totp_devices(user)),
        "has_key": user_has_key(user),
    }
    return render(request, "staffauth/verify.html", context)


def sign_in_complete(
    request: HttpRequest, user: AbstractBaseUser, device: Device, pending: dict | None
) -> str:
    """The second factor is proved by `device`: finish the sign-in; returns the next URL.

    After the password step (`pending`) this is the sign-in itself (`user_logged_in`
    fires: axes' counters reset, the audit row, the staff session registered); for a
    signed-in session that had not proved its factor, only the verification. Shared by
    codes and security keys.
    """
    next_url = _next_url(request, pending)
    if pending is not None:
        request.session.pop(PENDING, None)
        user.backend = pending["backend"]
        auth_login(request, user)
    otp_login(request, device)
    return next_url


def sign_in_failed(request: HttpRequest, user: AbstractBaseUser) -> None:
    """A wrong code or key: counted with the password failures, so guessing runs into
    the same lockout."""
    credentials = {"username": user.get_username()}
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)


def sign_in_allowed(request: HttpRequest, user: AbstractBaseUser) -> bool:
    """False while the account or the address is locked out."""
    return AxesProxyHandler.is_allowed(request, {"username": user.get_username()})


def user_to_verify(request: HttpRequest) -> tuple[AbstractBaseUser | None, dict | None]:
    """Whose second factor this request may prove, and the pending password step if any.

    (None, None) for anyone else: an anonymous visitor, a password step that expired,
    a session already verified, a user without factors.
    """
    pending = request.session.get(PENDING)
    if pending is not None:
        if time.time() - pending["at"] > PENDING_SECONDS:
            request.session.pop(PENDING, None)
            return None, None
        users = get_user_model().objects.filter(is_active=True, is_staff=True)
        user = users.filter(pk=pending["user"]).first()
        return user, pending
    user = request.user
    if user.is_authenticated and user.is_staff and not user.is_verified() and user_has_factor(user):
        return user, None
    return None, None


def _next_url(request: HttpRequest, pending: dict | None) -> str:
    candidate = pending["next"] if pending else request.GET.get(REDIRECT_FIELD_NAME, "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("admin:index")
