from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CannedResponse(models.Model):
    """A prepared answer. Placeholders: {number}, {name}, {subject}, {operator}."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    queue = models.ForeignKey(
        "tickets.Queue",
        verbose_name=_("queue"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        help_text=_("Empty: available in every queue."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title


class SatisfactionResponse(models.Model):
    """The citizen's answer to "was your problem solved?" (regulation 4)."""

    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="satisfaction"
    )
    solved = models.BooleanField(_("solved"))
    rating = models.PositiveSmallIntegerField(
        _("rating"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.rating}"


class InboundEmail(models.Model):
    """Every received message, raw, whatever became of it: nothing is lost."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        PROCESSED = "processed", _("processed")
        DUPLICATE = "duplicate", _("duplicate")
        QUARANTINED = "quarantined", _("quarantined")

    class Source(models.TextChoices):
        PIPE = "pipe", _("MTA pipe")
        IMAP = "imap", _("IMAP")
        WEBHOOK = "webhook", _("ESP webhook")
        ADMIN = "admin", _("operator")

    raw = models.FileField(_("raw message"), upload_to="mail/%Y/%m/")
    size = models.PositiveBigIntegerField(_("size"), default=0)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True, db_index=True)
    # SHA-256 of the content: how a message without a Message-ID is known again.
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True)
    sender = models.CharField(_("from"), max_length=998, blank=True)
    recipient = models.CharField(_("to"), max_length=998, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    error = models.TextField(_("error"), blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inbound_emails",
    )
    mailbox = models.ForeignKey(
        "tickets.Mailbox", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("inbound e-mail")
        verbose_name_plural = _("inbound e-mail")
        ordering = ["-received_at"]
        indexes = [
            models.Index(
                fields=["-received_at"],
                name="inbound_quarantined",
                condition=models.Q(status="quarantined"),
            ),
            models.Index(
                fields=["content_hash"],
                name="inbound_content_hash",
                condition=models.Q(message_id=""),
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id or str(self.pk)


class NumberSequence(models.Model):
    """Counter behind ticket numbers where the database has no sequences (SQLite).

    On PostgreSQL a real sequence is used instead; see `tickets.numbering`.
    """

    name = models.CharField(max_length=50, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("number sequence")

    def __str__(self) -> str:
        return f"{self.name}={self.last_value}"
