from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One outgoing message in the transactional outbox.

    Written in the same transaction as the change that caused it; sent after commit by
    a Celery task; re-sent by the sweeper if left pending. The unique idempotency key
    means a retry never sends the same message twice.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("e-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        SUPPRESSED = "suppressed", _("suppressed")

    class Kind(models.TextChoices):
        AUTO_REPLY = "auto_reply", _("auto-reply")
        NOTICE = "notice", _("automatic notice")
        PERSONAL = "personal", _("written by a person")
        ALERT = "alert", _("alert to staff")

    channel = models.CharField(
        _("channel"), max_length=10, choices=Channel.choices, default=Channel.EMAIL
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    recipient = models.CharField(_("recipient"), max_length=320, db_index=True)
    template = models.CharField(_("template"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=8, default="ru")
    reference = models.CharField(_("reference"), max_length=50, blank=True, db_index=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    from_email = models.CharField(_("from"), max_length=320, blank=True)
    reply_to = models.CharField(_("reply to"), max_length=320, blank=True)
    headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    attachments = models.JSONField(
        _("attachments"),
        default=list,
        blank=True,
        help_text=_("Storage paths of files to attach."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    message_id = models.CharField(_("sent Message-ID"), max_length=998, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sending_started_at = models.DateTimeField(_("claimed for sending"), null=True, blank=True)
    # Set (and committed) just before the message is handed to the mail server/ESP. A
    # worker that dies before this point certainly sent nothing; after it, maybe it did.
    handed_off_at = models.DateTimeField(_("handed to the mail server"), null=True, blank=True)
    reason = models.CharField(
        _("reason"),
        max_length=255,
        blank=True,
        help_text=_("Why the message was suppressed or needs a person to look at it."),
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Set by a delivery report that quotes this row's Message-ID and says the mail
    # failed for good (5.x.x): automatic mail to the recipient is then held back.
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at"]
        indexes = [
            # The sweeper scans only rows still owed a send.
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["recipient", "kind", "created_at"], name="notification_cap"),
            models.Index(
                fields=["recipient", "bounced_at"],
                name="notification_bounced",
                condition=models.Q(bounced_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} → {self.recipient} ({self.get_status_display()})"
