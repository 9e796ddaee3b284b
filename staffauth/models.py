"""Per-user state of staff sign-in that must be shared by all of a user's sessions."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionGeneration(models.Model):
    """A counter stored in each session at sign-in; raising it ends every older session.

    "Sign out everywhere" cannot find a user's sessions in the session store (they are
    keyed by session key, not user), so each session carries the generation it was
    opened under and StaffSessionMiddleware ends it when the user's generation moved on.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_generation"
    )
    value = models.PositiveIntegerField(_("generation"), default=0)

    class Meta:
        verbose_name = _("session generation")
        verbose_name_plural = _("session generations")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.value}"
