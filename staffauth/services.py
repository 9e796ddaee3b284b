"""Writes: enrol and remove second factors, reset a colleague's, end a user's sessions."""

import re
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from audit.services import audit_record
from staffauth.models import RecoveryCode, StaffSession
from staffauth.recovery import recovery_code_hash, recovery_code_matches, recovery_code_new
from staffauth.selectors import user_has_factor
from staffauth.webauthn import registration_verify

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "TOTP"
RECOVERY_NAME = "Recovery codes"
KEY_NAME_MAX_LENGTH = 64
# What factor_remove(kind=...) removes.
FACTOR_MODELS = {"totp": TOTPDevice, "key": WebAuthnCredential}
_TOTP_TOKEN = re.compile(r"^\d{6}$")


@transaction.atomic
def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """A fresh unconfirmed TOTP device whose secret the enrolment page shows as a QR code.

    An earlier unconfirmed one is dropped: only the secret on screen can be confirmed.
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


@transaction.atomic
def totp_device_confirm(
    *, user: AbstractBaseUser, device_id: int, token: str, keep_session_key: str | None
) -> list[str] | None:
    """Confirm the device on screen with a code from the app; None when the code is wrong.

    Returns the new recovery codes (shown once) when the user had none yet, else [].
    The user's other sessions end: one opened with the password alone before this
    would otherwise never be asked for the new factor.
    """
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(pk=device_id, user=user, confirmed=False)
        .first()
    )
    if device is None or not device.verify_token(_normalise(token)):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    ended = _sessions_end(user=user, keep_session_key=keep_session_key)
    audit_record(
        "mfa.enrolled", actor=user, obj=user, details={"factor": "totp", "sessions_ended": ended}
    )
    return _recovery_codes_if_none(user=user)


def _recovery_codes_if_none(*, user: AbstractBaseUser) -> list[str]:
    has_codes = RecoveryCode.objects.filter(
        device__user_id=user.pk, device__confirmed=True
    ).exists()
    return [] if has_codes else recovery_codes_regenerate(user=user)


@transaction.atomic
def key_register(
    *, request: HttpRequest, user: AbstractBaseUser, data: dict, keep_session_key: str | None
) -> tuple[WebAuthnCredential, list[str]]:
    """Store the security key the browser just created (raises webauthn.KeyRefused).

    As with an authenticator app: the user's other sessions end, and the first factor
    comes with recovery codes (returned to be shown once; [] when the user has some).
    The key is named after its number until the user names it.
    """
    device = registration_verify(request=request, user=user, data=data)
    number = WebAuthnCredential.objects.filter(user=user).count()
    device.name = gettext("Security key %(number)d") % {"number": number}
    device.save(update_fields=["name"])
    ended = _sessions_end(user=user, keep_session_key=keep_session_key)
    audit_record(
        "mfa.enrolled",
        actor=user,
        obj=user,
        details={"factor": "key", "key": device.pk, "sessions_ended": ended},
    )
    return device, _recovery_codes_if_none(user=user)


@transaction.atomic
def key_rename(*, user: AbstractBaseUser, device_id: int, name: str) -> bool:
    """Give one of the user's keys a name they recognise ("YubiKey on the keyring")."""
    name = " ".join(name.split())[:KEY_NAME_MAX_LENGTH]
    device = WebAuthnCredential.objects.filter(pk=device_id, user=user, confirmed=True).first()
    if device is None or not name:
        return False
    old_name = device.name
    device.name = name
    device.save(update_fields=["name"])
    audit_record(
        "mfa.renamed",
        actor=user,
        obj=user,
        details={"factor": "key", "key": device.pk, "from": old_name, "to": name},
    )
    return True


@transaction.atomic
def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """Ten new single-use recovery codes; the old ones stop working.

    The codes are returned to be shown once and stored only as hashes: nobody, the user
    included, can read them again (a lost list means making a new one).
    """
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.recovery_codes.all().delete()
    # django-otp's plain-text tokens (written by its addstatictoken command) never count.
    device.token_set.all().delete()
    codes = [recovery_code_new() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, code_hash=recovery_code_hash(code)) for code in codes
    )
    audit_record("mfa.recovery_codes_issued", actor=user, obj=user, details={"count": len(codes)})
    return codes


def second_factor_verify(*, user: AbstractBaseUser, token: str) -> Device | None:
    """The device that accepts `token` (a 6-digit TOTP code or a recovery code), or None.

    A code is tried only against devices of its kind, so a recovery code does not count
    as a failed TOTP attempt (django-otp throttles each device after failures). A
    recovery code is deleted when used.
    """
    token = _normalise(token)
    with transaction.atomic():
        if not _TOTP_TOKEN.match(token):
            return _recovery_code_use(user=user, code=token)
        for device in TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None


def _recovery_code_use(*, user: AbstractBaseUser, code: str) -> StaticDevice | None:
    """The user's recovery-code device if `code` is one of their unused codes, which is
    then used up. Call inside a transaction: the device row lock makes two sign-ins with
    the same code race for one delete, and only the one that deletes the row gets in.
    Throttled like django-otp's own StaticDevice.verify_token.
    """
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update().first()
    if device is None or not device.verify_is_allowed()[0]:
        return None
    # Every stored hash is compared (constant time each), not looked up by value.
    match = next(
        (row for row in device.recovery_codes.all() if recovery_code_matches(code, row.code_hash)),
        None,
    )
    if match is None or not RecoveryCode.objects.filter(pk=match.pk).delete()[0]:
        device.throttle_increment()
        return None
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    return device


@transaction.atomic
def factor_remove(
    *,
    user: AbstractBaseUser,
    kind: str,
    device_id: int,
    password: str,
    keep_session_key: str | None,
) -> bool:
    """Remove one of the user's factors (`kind` "totp" or "key"); the account password
    is needed, so a session left open on a shared computer cannot strip the factors.

    With the last factor gone the recovery codes go too: they are a fallback for a
    factor, not a factor. The user's other sessions end (they were verified by a factor
    that may be the one removed).
    """
    model = FACTOR_MODELS.get(kind)
    if model is None or not user.check_password(password):
        return False
    device = model.objects.filter(pk=device_id, user=user, confirmed=True).first()
    if device is None:
        return False
    device.delete()
    if not user_has_factor(user):
        StaticDevice.objects.filter(user=user).delete()
    ended = _sessions_end(user=user, keep_session_key=keep_session_key)
    audit_record(
        "mfa.removed",
        actor=user,
        obj=user,
        details={"factor": kind, "device": device_id, "sessions_ended": ended},
    )
    return True


@transaction.atomic
def factors_reset(
    *, user: AbstractBaseUser, actor: AbstractBaseUser | None, request: HttpRequest | None
) -> int:
    """Delete all of a user's factors and end their sessions (a superuser's action;
    `actor` is None from the `mfa_reset` command).

    The user enrols again at the next sign-in. Returns how many devices were removed.
    """
    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    ended = _sessions_end(user=user, keep_session_key=None)
    audit_record(
        "mfa.reset",
        actor=actor,
        request=request,
        obj=user,
        details={"devices": len(devices), "sessions_ended": ended},
    )
    return len(devices)


@transaction.atomic
def sessions_revoke(*, user: AbstractBaseUser, keep_session_key: str | None) -> int:
    """Sign out everywhere else: end every session of the user except the one kept."""
    ended = _sessions_end(user=user, keep_session_key=keep_session_key)
    audit_record("auth.sessions_revoked", actor=user, obj=user, details={"sessions": ended})
    return ended


def _sessions_end(*, user: AbstractBaseUser, keep_session_key: str | None) -> int:
    rows = StaffSession.objects.filter(user=user).exclude(session_key=keep_session_key or "")
    keys = list(rows.values_list("session_key", flat=True))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    return len(keys)


def _normalise(token: str) -> str:
    return "".join(token.split()).replace("-", "").lower()
