from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models.ticket import Channel


class Message(models.Model):
    """One entry of the conversation: what the requester said, an answer, a note."""

    class Author(models.TextChoices):
        REQUESTER = "requester", _("requester")
        OPERATOR = "operator", _("operator")
        SYSTEM = "system", _("system")

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    author_kind = models.CharField(_("author"), max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ticket_messages",
    )
    is_internal = models.BooleanField(_("internal note"), default=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    text = models.TextField(_("text"))
    html = models.TextField(_("sanitised HTML"), blank=True)
    full_text = models.TextField(
        _("full text"), blank=True, help_text=_("For e-mail: the text with quoted history.")
    )
    email_message_id = models.CharField(max_length=998, blank=True, db_index=True)
    inbound_email = models.ForeignKey(
        "tickets.InboundEmail",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket_time"),
            # Supervisor dashboard: operators' answers today.
            models.Index(fields=["created_at"], name="message_created"),
        ]

    def __str__(self) -> str:
        return f"{self.get_author_kind_display()}: {self.text[:60]}"

    @property
    def is_public(self) -> bool:
        return not self.is_internal


class Attachment(models.Model):
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    is_inline = models.BooleanField(_("inline"), default=False)
    content_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
