"""The sessions each staff user has open, so that they can all be ended at once."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
