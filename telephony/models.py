"""The call log: one row per call the phone platform told us about (CTI events)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CallRecord(models.Model):
    """A call, built up by its newCall / answer / hangup events (idempotent per event:
    a repeated event changes nothing). Numbers are E.164 where they are phone numbers,
    else the raw value (an extension, "anonymous")."""

    class Direction(models.TextChoices):
        IN = "in", _("inbound")
        OUT = "out", _("outbound")

    call_id = models.CharField(_("call id"), max_length=100, unique=True)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    from_number = models.CharField(_("from number"), max_length=64, blank=True, db_index=True)
    to_number = models.CharField(_("to number"), max_length=64, blank=True, db_index=True)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    # Whom the platform said the call rings (newCall's user/answeringNumber): the one
    # operator whose screen pops before anyone answers.
    rang_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rang for"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    user_label = models.CharField(_("user (as sent)"), max_length=100, blank=True)
    queue_label = models.CharField(_("queue (as sent)"), max_length=100, blank=True)
    ring_at = models.DateTimeField(_("rang"), default=timezone.now)
    answer_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    end_at = models.DateTimeField(_("ended"), null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(_("wait, s"), null=True, blank=True)
    talk_seconds = models.PositiveIntegerField(_("talk, s"), null=True, blank=True)
    cause = models.CharField(_("cause"), max_length=32, blank=True)
    missed = models.BooleanField(_("missed"), default=False)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    callback = models.ForeignKey(
        "tickets.CallbackRequest",
        verbose_name=_("call-back"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("call log")
        ordering = ["-ring_at", "-id"]
        indexes = [models.Index(fields=["-ring_at"], name="call_ring_at")]

    def __str__(self) -> str:
        return self.call_id

    @property
    def citizen_number(self) -> str:
        """The other party: the caller of an inbound call, the callee of an outbound one."""
        return self.from_number if self.direction == self.Direction.IN else self.to_number


class OperatorPhone(models.Model):
    """An operator's extension: how `user` / `answeringNumber` in CTI events find staff."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.CASCADE,
        related_name="phone_extension",
    )
    extension = models.CharField(_("extension"), max_length=32, unique=True)

    class Meta:
        verbose_name = _("operator phone")
        verbose_name_plural = _("operator phones")

    def __str__(self) -> str:
        return f"{self.extension}: {self.user}"
