"""Writes: enrol and remove second factors, reset a colleague's, end a user's sessions."""

import re

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import audit_record
from staffauth.models import SessionGeneration

RECOVERY_CODE_COUNT = 10
TOTP_NAME = "TOTP"
RECOVERY_NAME = "Recovery codes"
_TOTP_TOKEN = re.compile(r"^\d{6}$")


@transaction.atomic
def totp_device_start(*, user: AbstractBaseUser) -> TOTPDevice:
    """A fresh unconfirmed TOTP device whose secret the enrolment page shows as a QR code.

    An earlier unconfirmed one is dropped: only the secret on screen can be confirmed.
    """
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


@transaction.atomic
def totp_device_confirm(*, user: AbstractBaseUser, device_id: int, token: str) -> list[str] | None:
    """Confirm the device on screen with a code from the app; None when the code is wrong.

    Returns the new recovery codes (shown once) when the user had none yet, else [].
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
    audit_record("mfa.enrolled", actor=user, obj=user, details={"factor": "totp"})
    has_codes = StaticToken.objects.filter(device__user=user, device__confirmed=True).exists()
    return [] if has_codes else recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user: AbstractBaseUser) -> list[str]:
    """Ten new single-use recovery codes; the old ones stop working."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit_record("mfa.recovery_codes_issued", actor=user, obj=user, details={"count": len(codes)})
    return codes


def second_factor_verify(*, user: AbstractBaseUser, token: str) -> Device | None:
    """The device that accepts `token` (a 6-digit TOTP code or a recovery code), or None.

    A code is tried only against devices of its kind, so a recovery code does not count
    as a failed TOTP attempt (django-otp throttles each device after failures). A
    recovery code is deleted when used.
    """
    token = _normalise(token)
    model = TOTPDevice if _TOTP_TOKEN.match(token) else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(token):
                return device
    return None


@transaction.atomic
def factor_remove(*, user: AbstractBaseUser, device_id: int, token: str) -> bool:
    """Remove one of the user's TOTP devices; a current code (or recovery code) is needed.

    With the last TOTP device gone the recovery codes go too: they are a fallback for
    a factor, not a factor.
    """
    device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=True).first()
    if device is None or second_factor_verify(user=user, token=token) is None:
        return False
    device.delete()
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        StaticDevice.objects.filter(user=user).delete()
    audit_record("mfa.removed", actor=user, obj=user, details={"factor": "totp"})
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
    _generation_raise(user)
    audit_record(
        "mfa.reset",
        actor=actor,
        request=request,
        obj=user,
        details={"devices": len(devices), "sessions_revoked": True},
    )
    return len(devices)


@transaction.atomic
def sessions_revoke(*, user: AbstractBaseUser) -> int:
    """End every session of the user opened so far; returns the new generation.

    StaffSessionMiddleware signs out a session whose stored generation is older; the
    caller writes the returned value into a session it wants to keep.
    """
    value = _generation_raise(user)
    audit_record("auth.sessions_revoked", actor=user, obj=user)
    return value


def _generation_raise(user: AbstractBaseUser) -> int:
    generation, created = SessionGeneration.objects.get_or_create(user=user, defaults={"value": 1})
    if not created:
        SessionGeneration.objects.filter(pk=generation.pk).update(value=F("value") + 1)
        generation.refresh_from_db(fields=["value"])
    return generation.value


def _normalise(token: str) -> str:
    return "".join(token.split()).lower()
