"""The staff member's own security page: second factors, recovery codes, sessions."""

from base64 import b32encode
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from staffauth.forms import ConfirmTotpForm, RemoveFactorForm
from staffauth.qr import qr_svg
from staffauth.selectors import (
    mfa_required_for,
    recovery_codes_left,
    user_factors,
    user_keys,
    user_totp_devices,
)
from staffauth.services import (
    factor_remove,
    recovery_codes_regenerate,
    sessions_revoke,
    totp_device_confirm,
    totp_device_start,
)
from staffauth.sessions import HAS_FACTOR
from staffauth.views.login import sign_in_failed

ENROLLING = "staffauth_enrolling_device"


def security_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only, and a session that has proved a factor the user has.

    These pages stay open to an unverified session (StaffMFAMiddleware sends people here
    to enrol), so without this a password-only session could add its own factor.
    """

    @staff_member_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_verified() and user_factors(request.user):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('staffauth:verify')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped


def render_security_page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    return render(request, template, {**admin.site.each_context(request), **context})


@security_view
def security(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render_security_page(
        request,
        "staffauth/security.html",
        {
            "title": _("Sign-in security"),
            "totp_devices": user_totp_devices(user),
            "keys": user_keys(user),
            "has_factor": bool(user_factors(user)),
            "recovery_codes_left": recovery_codes_left(user),
            "mfa_required": mfa_required_for(user),
            "remove_form": RemoveFactorForm(),
        },
    )


@security_view
def totp_enrol(request: HttpRequest) -> HttpResponse:
    user = request.user
    device = TOTPDevice.objects.filter(
        pk=request.session.get(ENROLLING), user=user, confirmed=False
    ).first()
    if device is None:
        device = totp_device_start(user=user)
        request.session[ENROLLING] = device.pk
    form = ConfirmTotpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_device_confirm(
            user=user,
            device_id=device.pk,
            token=form.cleaned_data["code"],
            keep_session_key=request.session.session_key,
        )
        if codes is not None:
            request.session.pop(ENROLLING, None)
            request.session[HAS_FACTOR] = True
            device.refresh_from_db()
            otp_login(request, device)
            messages.success(request, _("The authenticator app is set up."))
            if codes:
                return _recovery_codes_page(request, codes)
            return redirect("staffauth:security")
        form.add_error("code", _("The code does not match. Check the time on your phone."))
    return render_security_page(
        request,
        "staffauth/totp_enrol.html",
        {
            "title": _("Set up an authenticator app"),
            "qr": qr_svg(device.config_url),
            "secret": b32encode(device.bin_key).decode(),
            "form": form,
        },
    )


@require_POST
@security_view
def recovery_codes(request: HttpRequest) -> HttpResponse:
    if not user_factors(request.user):
        return redirect("staffauth:security")
    return _recovery_codes_page(request, recovery_codes_regenerate(user=request.user))


def _recovery_codes_page(request: HttpRequest, codes: list[str]) -> HttpResponse:
    response = render_security_page(
        request,
        "staffauth/recovery_codes.html",
        {"title": _("Recovery codes"), "codes": codes},
    )
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@security_view
def factor_remove_view(request: HttpRequest) -> HttpResponse:
    form = RemoveFactorForm(request.POST)
    if form.is_valid() and factor_remove(
        user=request.user,
        kind=form.cleaned_data["kind"],
        device_id=form.cleaned_data["device"],
        password=form.cleaned_data["password"],
        keep_session_key=request.session.session_key,
    ):
        request.session[HAS_FACTOR] = bool(user_factors(request.user))
        if form.cleaned_data["kind"] == "key":
            messages.success(request, _("The security key was removed."))
        else:
            messages.success(request, _("The authenticator app was removed."))
    else:
        if form.is_valid() and not request.user.check_password(form.cleaned_data["password"]):
            # A wrong password here counts like one at the sign-in: no free guessing
            # from a session left open.
            sign_in_failed(request, request.user)
        messages.error(request, _("The password is wrong: nothing was removed."))
    return redirect("staffauth:security")


@require_POST
@security_view
def sessions_revoke_view(request: HttpRequest) -> HttpResponse:
    sessions_revoke(user=request.user, keep_session_key=request.session.session_key)
    messages.success(request, _("You were signed out on all other devices and browsers."))
    return redirect("staffauth:security")
