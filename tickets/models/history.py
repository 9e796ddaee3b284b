from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.signals import history_recorded


class TicketEventManager(models.Manager):
    def bulk_create(self, objs, *args, **kwargs):
        events = super().bulk_create(objs, *args, **kwargs)
        if events:
            history_recorded.send(sender=self.model, events=events)
        return events


class TicketEvent(models.Model):
    """Append-only history of a ticket (regulation 7): rows are never changed or deleted."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        STATUS = "status", _("status changed")
        ASSIGNED = "assigned", _("assigned")
        LINE = "line", _("line changed")
        FIELD = "field", _("field changed")
        MESSAGE = "message", _("message")
        NOTE = "note", _("internal note")
        LINKED = "linked", _("linked")
        MERGED = "merged", _("merged")
        ESCALATED = "escalated", _("escalated")
        SLA = "sla", _("SLA")
        NOTIFIED = "notified", _("notification")
        SATISFACTION = "satisfaction", _("satisfaction")
        CALLBACK = "callback", _("call-back")

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("who"), max_length=255, blank=True)
    field = models.CharField(_("field"), max_length=64, blank=True)
    old_value = models.CharField(_("was"), max_length=255, blank=True)
    new_value = models.CharField(_("became"), max_length=255, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    objects = TicketEventManager()

    class Meta:
        verbose_name = _("history entry")
        verbose_name_plural = _("history")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_value} → {self.new_value}".strip()

    def save(self, *args, **kwargs):
        # Invariant: history is append-only.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Ticket history is append-only.")
        super().save(*args, **kwargs)
        history_recorded.send(sender=TicketEvent, events=[self])

    def delete(self, *args, **kwargs):
        raise ValueError("Ticket history is append-only.")
