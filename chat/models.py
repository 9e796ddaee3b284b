"""Chat sessions (one per conversation, always on a ticket) and operators' availability."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def new_session_secret() -> str:
    return secrets.token_urlsafe(18)


class ChatSession(models.Model):
    """A live conversation. Its lines are Messages of `ticket` (channel "chat")."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting for an operator")
        ACTIVE = "active", _("in progress")
        ENDED = "ended", _("ended")
        OFFLINE = "offline", _("left as a message (no operator online)")

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="chat_sessions",
    )
    queue = models.ForeignKey(
        "tickets.Queue", verbose_name=_("queue"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="chat_sessions",
    )
    # Part of the signed citizen token: rotating it revokes every token issued so far.
    secret = models.CharField(max_length=40, default=new_session_secret, editable=False)
    citizen_name = models.CharField(_("name"), max_length=255, blank=True)
    # The e-mail given when the chat started: the only address its transcript goes to.
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="ru")
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # The highest client sequence number stored, per side: a line resent after a
    # reconnect with a sequence number at or below it is acknowledged, not stored twice.
    citizen_seq = models.PositiveIntegerField(default=0, editable=False)
    operator_seq = models.PositiveIntegerField(default=0, editable=False)
    # The first ticket message said in this chat: history shown in the chat starts there.
    first_message_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # The citizen's 1-5 rating of the chat once it ended (issue 20): given at most once.
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    # A database default too: processes of the previous release insert rows without it.
    rating_comment = models.TextField(_("comment on the rating"), blank=True, db_default="")
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)

    class Meta:
        verbose_name = _("chat session")
        verbose_name_plural = _("chat sessions")
        ordering = ["-started_at"]
        permissions = [
            ("operate_chat", _("Can answer chats in the operator console")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="chat_rating_1_to_5",
            ),
        ]
        indexes = [
            models.Index(
                fields=["started_at"],
                name="chat_waiting_started",
                condition=Q(status="waiting"),
            ),
            models.Index(
                fields=["operator"],
                name="chat_active_operator",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket.reference} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.WAITING, self.Status.ACTIVE)


class OperatorPresence(models.Model):
    """Whether an operator takes chats now, and how many at once."""

    class Availability(models.TextChoices):
        ONLINE = "online", _("online")
        AWAY = "away", _("away")
        OFFLINE = "offline", _("offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.CASCADE,
        related_name="chat_presence",
    )
    availability = models.CharField(
        _("availability"),
        max_length=8,
        choices=Availability.choices,
        default=Availability.OFFLINE,
    )
    max_chats = models.PositiveSmallIntegerField(_("chats at once, at most"), default=3)
    # Refreshed by the console's heartbeat; an "online" operator whose console has been
    # silent for longer than CHAT_PRESENCE_TIMEOUT is not routed to (closed laptop).
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        verbose_name = _("operator availability")
        verbose_name_plural = _("operator availability")

    def __str__(self) -> str:
        return f"{self.user}: {self.get_availability_display()}"
