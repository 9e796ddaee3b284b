"""Security-key ceremonies (WebAuthn) on django-otp-webauthn's helper and models.

The library builds the options and verifies registrations; the sign-in assertion is
verified here, under a row lock on the key, so that its signature counter is read and
advanced by one request at a time: a replayed or cloned assertion (a counter that does
not increase) is refused even when two arrive at once.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django_otp_webauthn.exceptions import OTPWebAuthnApiError
from django_otp_webauthn.models import WebAuthnCredential
from webauthn import base64url_to_bytes, verify_authentication_response
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException

REGISTER_STATE = "staffauth_key_register_state"
SIGN_IN_STATE = "staffauth_key_sign_in_state"


class KeyRefused(Exception):
    """The browser's answer does not prove the key: `code` says why (for logs and JSON)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _helper(request: HttpRequest):
    return WebAuthnCredential.get_webauthn_helper(request=request)


def registration_begin(*, request: HttpRequest, user: AbstractBaseUser) -> dict:
    """Options for navigator.credentials.create(); the challenge waits in the session.

    The user's keys are excluded, so one key is not enrolled twice.
    """
    options, state = _helper(request).register_begin(user=user)
    request.session[REGISTER_STATE] = state
    return options


def registration_verify(
    *, request: HttpRequest, user: AbstractBaseUser, data: dict
) -> WebAuthnCredential:
    """Check the attestation against the challenge in the session and store the key.

    The challenge is taken out of the session first (and the session saved), so it is
    used once whatever happens next. Raises KeyRefused.
    """
    state = _pop_state(request, REGISTER_STATE)
    try:
        with transaction.atomic():
            return _helper(request).register_complete(user=user, state=state, data=data)
    except IntegrityError:
        raise KeyRefused("already_registered") from None
    except (OTPWebAuthnApiError, WebAuthnException, KeyError, TypeError, ValueError):
        raise KeyRefused("invalid_registration") from None


def assertion_begin(*, request: HttpRequest, user: AbstractBaseUser) -> dict:
    """Options for navigator.credentials.get() listing this user's keys only."""
    options, state = _helper(request).authenticate_begin(user=user, require_user_verification=False)
    request.session[SIGN_IN_STATE] = state
    return options


def assertion_verify(
    *, request: HttpRequest, user: AbstractBaseUser, data: dict
) -> WebAuthnCredential:
    """The user's key that signed the challenge in the session; raises KeyRefused.

    Refused: no challenge (never begun, or already used), a key that is not one of this
    user's confirmed keys, a signature that does not verify over this challenge, origin
    and relying party, and a signature counter that does not increase (a replay or a
    cloned key; authenticators that keep no counter send 0 every time and pass).
    """
    state = _pop_state(request, SIGN_IN_STATE)
    helper = _helper(request)
    try:
        credential = parse_authentication_credential_json(data)
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise KeyRefused("malformed") from None
    with transaction.atomic():
        device = (
            WebAuthnCredential.objects.select_for_update()
            .filter(
                credential_id_sha256=WebAuthnCredential.get_credential_id_sha256(credential.raw_id),
                user=user,
                confirmed=True,
            )
            .first()
        )
        if device is None:
            raise KeyRefused("unknown_key")
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=base64url_to_bytes(state["challenge"]),
                expected_rp_id=helper.get_relying_party_domain(),
                expected_origin=helper.get_allowed_origins(),
                credential_public_key=bytes(device.public_key),
                credential_current_sign_count=device.sign_count,
                require_user_verification=state["require_user_verification"],
            )
        except (WebAuthnException, KeyError, TypeError, ValueError):
            raise KeyRefused("invalid_assertion") from None
        device.sign_count = verified.new_sign_count
        device.backup_state = verified.credential_backed_up
        device.set_last_used_timestamp(commit=False)
        device.save(update_fields=["sign_count", "backup_state", "last_used_at"])
    return device


def _pop_state(request: HttpRequest, key: str) -> dict:
    state = request.session.pop(key, None)
    request.session.save()
    if not state:
        raise KeyRefused("no_challenge")
    return state
