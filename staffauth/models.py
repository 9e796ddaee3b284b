"""The sessions each staff user has open, so that they can all be ended at once."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice


class StaffSession(models.Model):
    """One open session of a staff user, by session key.

    Django's session store is keyed by session key, not by user: "sign out everywhere"
    and a factor reset find the user's sessions here and delete them from the store.
    Rows are written at sign-in (and when a password change re-keys the session), never
    per request.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_sessions"
    )
    session_key = models.CharField(_("session key"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)

    class Meta:
        verbose_name = _("staff session")
        verbose_name_plural = _("staff sessions")

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class RecoveryCode(models.Model):
    """One single-use recovery code of a staff user, as a one-way hash (staffauth.recovery).

    Hangs off django-otp's StaticDevice, which stays the device a session verified by a
    recovery code points at (throttling, "codes left", removal with the last factor);
    django-otp's own plain-text StaticToken rows are no longer written or accepted.
    """

    device = models.ForeignKey(
        StaticDevice, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(_("code hash"), max_length=128)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return f"{self.device_id} {self.created_at:%Y-%m-%d %H:%M}"
