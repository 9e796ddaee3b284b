"""Outgoing webhooks: who is told about what (subscriptions), and the delivery log."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """What a subscription may ask for (docs/webhooks.md lists the payloads)."""

    TICKET_CREATED = "ticket.created", _("appeal registered")
    TICKET_UPDATED = "ticket.updated", _("appeal changed (queue, type, priority, links, …)")
    TICKET_STATUS_CHANGED = "ticket.status_changed", _("status changed")
    TICKET_ASSIGNED = "ticket.assigned", _("assignee changed")
    TICKET_ESCALATED = "ticket.escalated", _("handed to the second line")
    MESSAGE_CREATED = "message.created", _("public message (internal notes are never sent)")
    SLA_REMINDER = "sla.reminder", _("SLA reminder")
    SLA_BREACHED = "sla.breached", _("SLA breached")
    CALLBACK_CREATED = "callback.created", _("call-back requested")
    CALLBACK_UPDATED = "callback.updated", _("call-back attempt recorded")


class WebhookSubscription(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    # The shared HMAC key: shown once when made, never again (rotate to get a new one).
    secret = models.CharField(_("secret"), max_length=100, editable=False)
    event_types = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    # Failure tracking: `failing_since` is the first failed attempt after the last success.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled automatically"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription. The id is the `X-Helpdesk-Delivery` header:
    receivers de-duplicate by it (a delivery may arrive twice, see docs/webhooks.md)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No database constraint: a process may write a delivery for a subscription deleted
    # in the last seconds (its cached list, see `subscriptions_active`); that must not
    # fail the ticket change it records. The sender fails such a delivery.
    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_constraint=False,
    )
    event = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    # No foreign key: the log outlives nothing it describes, and a ticket is never deleted.
    ticket_id = models.BigIntegerField(_("ticket id"), null=True, blank=True, db_index=True)
    reference = models.CharField(_("appeal"), max_length=32, blank=True)
    payload = models.JSONField(_("payload"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Set by each claim: only the holder of the current token may record the outcome.
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        permissions = [("resend_webhookdelivery", _("Can re-send webhook deliveries"))]
        indexes = [
            # The sweep: pending rows that are due, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
            # Rows left "sending" by a dead worker.
            models.Index(
                fields=["claimed_at"],
                name="webhook_delivery_sending",
                condition=models.Q(status="sending"),
            ),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log"),
            models.Index(fields=["created_at"], name="webhook_delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.reference} → {self.subscription_id}".strip()


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("response"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_body = models.CharField(_("response (start)"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["started_at", "id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
