"""Reads: who must have a second factor, which factors a user has."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential


def mfa_required_for(user: AbstractBaseUser) -> bool:
    """True when this staff user may not open staff pages without a second factor.

    STAFF_MFA_REQUIRED switches enforcement on; STAFF_MFA_GROUPS, when set, narrows it
    to those groups, but superusers and supervisors are always in (they see every
    queue's personal data).
    """
    if not (settings.STAFF_MFA_REQUIRED and user.is_authenticated and user.is_staff):
        return False
    groups = settings.STAFF_MFA_GROUPS
    if not groups or user.is_superuser or user.has_perm("tickets.supervise"):
        return True
    return user.groups.filter(name__in=groups).exists()


def user_factors(user: AbstractBaseUser) -> list[Device]:
    """Confirmed factors that prove a sign-in: TOTP apps and security keys (recovery
    codes are a fallback, not a factor)."""
    return user_totp_devices(user) + user_keys(user)


def user_totp_devices(user: AbstractBaseUser) -> list[TOTPDevice]:
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def user_keys(user: AbstractBaseUser) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.devices_for_user(user, confirmed=True).order_by("pk"))


def user_has_factor(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists() or user_has_key(user)


def user_has_key(user: AbstractBaseUser) -> bool:
    return WebAuthnCredential.objects.devices_for_user(user, confirmed=True).exists()


def recovery_codes_left(user: AbstractBaseUser) -> int:
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    return device.recovery_codes.count() if device else 0
