from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CallbackRequest(models.Model):
    """«Перезвоните мне» (regulation 12): a number to call back, with its own due time.

    Open while `closed_at` is empty; the operators' call-back list works the open ones,
    earliest `due_at` first. `outcome` is the latest attempt's result.
    """

    class Day(models.TextChoices):
        TODAY = "today", _("today")
        TOMORROW = "tomorrow", _("tomorrow")

    class Window(models.TextChoices):
        MORNING = "morning", _("in the morning (9–12)")
        AFTERNOON = "afternoon", _("in the afternoon (12–17)")
        EVENING = "evening", _("in the evening (17–20)")

    # Local hours (the queue's time zone) each window spans: [start, end).
    WINDOW_HOURS = {"morning": (9, 12), "afternoon": (12, 17), "evening": (17, 20)}

    class Outcome(models.TextChoices):
        REACHED = "reached", _("reached")
        REACHED_SOLVED = "reached_solved", _("reached, solved during the call")
        NO_ANSWER = "no_answer", _("no answer")
        BUSY = "busy", _("busy")
        WRONG_NUMBER = "wrong_number", _("wrong number")

    FAILED_OUTCOMES = (Outcome.NO_ANSWER, Outcome.BUSY)

    class Source(models.TextChoices):
        WEB = "web", _("appeal form")
        STATUS = "status", _("status page")
        CHAT = "chat", _("chat")
        MISSED_CALL = "missed_call", _("missed call")
        OPERATOR = "operator", _("operator")

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="callbacks",
    )
    phone = models.CharField(_("phone"), max_length=20)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices)
    window_date = models.DateField(_("preferred day"), null=True, blank=True)
    window = models.CharField(
        _("preferred time"), max_length=10, choices=Window.choices, blank=True
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    due_at = models.DateTimeField(_("call back by"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_attempt_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last attempt by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set for missed calls only: at most one entry per number and local day.
    missed_on = models.DateField(_("missed on"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        verbose_name = _("call-back")
        verbose_name_plural = _("call-backs")
        ordering = ["due_at", "id"]
        indexes = [
            # The call-back list and the admin tile: open entries by due time.
            models.Index(
                fields=["due_at"], name="callback_open_due", condition=Q(closed_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "missed_on"],
                name="callback_missed_once_a_day",
                condition=Q(missed_on__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_source_display()}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at <= timezone.now()
