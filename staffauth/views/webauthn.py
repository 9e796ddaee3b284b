"""Security keys (WebAuthn): sign in with one after the password, enrol one, name it.

The JSON endpoints are called by static/staffauth/webauthn.js with the CSRF token in
X-CSRFToken. Who may call them is the same as for the pages they belong to: the sign-in
pair only for a user whose password step is pending (or whose signed-in session has not
proved its factor yet), the enrolment pair only for staff whose session has proved the
factor they have. The challenge lives in the session and is used once.
"""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential

from staffauth.forms import KeyNameForm
from staffauth.selectors import user_factors, user_has_key
from staffauth.services import key_register, key_rename
from staffauth.sessions import HAS_FACTOR
from staffauth.views.login import (
    sign_in_allowed,
    sign_in_complete,
    sign_in_failed,
    user_to_verify,
)
from staffauth.views.security import render_security_page, security_view
from staffauth.webauthn import KeyRefused, assertion_begin, assertion_verify, registration_begin

NEW_RECOVERY_CODES = "staffauth_new_recovery_codes"


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def _json_body(request: HttpRequest) -> dict | None:
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def key_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """POST only, never cached; the CSRF middleware has checked the token by now."""
    return require_POST(never_cache(view))


# --- Sign-in with a key (after the password) ------------------------------------------


def _signing_in(request: HttpRequest):
    """(user, pending, None) for whom a key may finish the sign-in, or (.., refusal)."""
    user, pending = user_to_verify(request)
    if user is None:
        return None, None, _error(403, "no_sign_in", _("Sign in with your password first."))
    if not sign_in_allowed(request, user):
        refusal = _error(429, "locked_out", _("Too many failed attempts. Try again later."))
        return user, pending, refusal
    return user, pending, None


@key_api
def sign_in_begin(request: HttpRequest) -> HttpResponse:
    user, _pending, refusal = _signing_in(request)
    if refusal is not None:
        return refusal
    if not user_has_key(user):
        return _error(400, "no_key", _("You have no security key."))
    return JsonResponse(assertion_begin(request=request, user=user))


@key_api
def sign_in_finish(request: HttpRequest) -> HttpResponse:
    user, pending, refusal = _signing_in(request)
    if refusal is not None:
        return refusal
    data = _json_body(request)
    try:
        if data is None:
            raise KeyRefused("malformed")
        device = assertion_verify(request=request, user=user, data=data)
    except KeyRefused as refused:
        sign_in_failed(request, user)
        return _error(
            400, refused.code, _("The security key was not accepted. Try again or use a code.")
        )
    return JsonResponse({"redirect_url": sign_in_complete(request, user, device, pending)})


# --- Enrolment ------------------------------------------------------------------------


def key_enrol_api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff only, and a session that has proved a factor the user has (as the security
    page): answers in JSON instead of redirecting to a page."""

    @key_api
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return _error(403, "not_staff", _("Sign in as staff first."))
        if not user.is_verified() and user_factors(user):
            return _error(403, "not_verified", _("Confirm your second factor first."))
        return view(request, *args, **kwargs)

    return wrapped


@key_enrol_api
def register_begin(request: HttpRequest) -> HttpResponse:
    return JsonResponse(registration_begin(request=request, user=request.user))


@key_enrol_api
def register_finish(request: HttpRequest) -> HttpResponse:
    data = _json_body(request)
    try:
        if data is None:
            raise KeyRefused("malformed")
        device, codes = key_register(
            request=request,
            user=request.user,
            data=data,
            keep_session_key=request.session.session_key,
        )
    except KeyRefused as refused:
        return _error(400, refused.code, _("The security key could not be added. Try again."))
    request.session[HAS_FACTOR] = True
    if not request.user.is_verified():
        # The first factor: this session, which has just proved it, counts as verified.
        otp_login(request, device)
    if codes:
        # Shown once on the naming page, then gone from the session.
        request.session[NEW_RECOVERY_CODES] = codes
    return JsonResponse({"redirect_url": f"{reverse('staffauth:key_name')}?key={device.pk}"})


@security_view
def key_name(request: HttpRequest) -> HttpResponse:
    """Name a key: right after enrolment (with the recovery codes of a first factor,
    shown once) or later from the security page."""
    raw_id = request.POST.get("key") if request.method == "POST" else request.GET.get("key")
    device = WebAuthnCredential.objects.filter(
        pk=raw_id if str(raw_id or "").isdigit() else None, user=request.user, confirmed=True
    ).first()
    if device is None:
        raise Http404
    form = KeyNameForm(request.POST or None, initial={"key": device.pk, "name": device.name})
    if request.method == "POST" and form.is_valid():
        key_rename(user=request.user, device_id=device.pk, name=form.cleaned_data["name"])
        messages.success(request, _("The security key is saved."))
        return redirect("staffauth:security")
    codes = request.session.pop(NEW_RECOVERY_CODES, None)
    response = render_security_page(
        request,
        "staffauth/key_name.html",
        {"title": _("Name the security key"), "form": form, "key": device, "codes": codes},
    )
    response["Cache-Control"] = "no-store"
    return response
