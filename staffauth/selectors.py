"""Reads: who must have a second factor, which factors a user has."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


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
    """Confirmed factors that prove a sign-in: TOTP apps (recovery codes are a fallback)."""
    return list(TOTPDevice.objects.devices_for_user(user, confirmed=True))


def user_has_factor(user: AbstractBaseUser) -> bool:
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).exists()


def recovery_codes_left(user: AbstractBaseUser) -> int:
    device = StaticDevice.objects.devices_for_user(user, confirmed=True).first()
    return device.token_set.count() if device else 0
