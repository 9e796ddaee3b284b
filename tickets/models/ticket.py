import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.numbering import format_ticket_number


def new_ticket_token() -> str:
    return secrets.token_urlsafe(24)


class Channel(models.TextChoices):
    WEB = "web", _("web form")
    EMAIL = "email", _("e-mail")
    PHONE = "phone", _("phone")
    CHAT = "chat", _("chat")
    # Created by an integration through the REST API (a portal, a mobile app).
    API = "api", _("API")


class Ticket(models.Model):
    """An appeal. Its number (`SP-0042`) is what people say and type."""

    class Status(models.TextChoices):
        NEW = "new", _("new")
        OPEN = "open", _("in progress")
        PENDING = "pending", _("waiting for the citizen")
        RESOLVED = "resolved", _("resolved")
        CLOSED = "closed", _("closed")

    class Kind(models.TextChoices):
        QUESTION = "question", _("question")
        PROBLEM = "problem", _("technical problem")
        COMPLAINT = "complaint", _("complaint")
        SUGGESTION = "suggestion", _("suggestion")

    class Priority(models.TextChoices):
        LOW = "low", _("low")
        NORMAL = "normal", _("normal")
        HIGH = "high", _("high")
        URGENT = "urgent", _("urgent")

    class Outcome(models.TextChoices):
        """How a resolved ticket ended: solved by us, or redirected elsewhere with
        guidance (seed 002 §3.8: «перенаправлено / не по компетенции»)."""

        SOLVED = "solved", _("solved")
        REDIRECTED = "redirected", _("redirected (outside our competence)")

    class Line(models.TextChoices):
        FIRST = "first", _("first line")
        SECOND = "second", _("second line")

    Channel = Channel

    number = models.PositiveBigIntegerField(_("number"), unique=True, editable=False)
    token = models.CharField(max_length=40, default=new_ticket_token, editable=False)
    queue = models.ForeignKey(
        "tickets.Queue", verbose_name=_("queue"), on_delete=models.PROTECT, related_name="tickets"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    kind = models.CharField(_("type"), max_length=12, choices=Kind.choices, default=Kind.QUESTION)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    line = models.CharField(_("line"), max_length=8, choices=Line.choices, default=Line.FIRST)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    assigned_group = models.ForeignKey(
        Group,
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tickets",
    )
    requester = models.ForeignKey(
        "tickets.Contact",
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    subject = models.CharField(_("subject"), max_length=255)
    language = models.CharField(_("language"), max_length=8, default="ru")

    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)

    # The SLA clock (regulation 3): due times, and the next moments the sweep must act.
    # sla_remind_at / sla_breach_at are set while an alert is still owed and cleared
    # once it is enqueued, so the sweep is an index range scan over a small partial index.
    first_response_due = models.DateTimeField(_("first answer due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    sla_remind_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_breach_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    # The optional resolution target: the same pair of one-shot alert moments.
    resolution_remind_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_breach_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The department's mandatory deadline once escalated (seed 003), the same pair again.
    department_due = models.DateTimeField(_("department deadline"), null=True, blank=True)
    department_remind_at = models.DateTimeField(null=True, blank=True, editable=False)
    department_breach_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Set when the ticket is resolved or closed, cleared when it is reopened.
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=Outcome.choices, blank=True, default=""
    )
    first_contact_resolution = models.BooleanField(_("solved at first contact"), default=False)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "queue"], name="ticket_status_queue"),
            models.Index(fields=["-created_at"], name="ticket_created"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(
                fields=["sla_remind_at"],
                name="ticket_sla_remind",
                condition=Q(sla_remind_at__isnull=False),
            ),
            models.Index(
                fields=["sla_breach_at"],
                name="ticket_sla_breach",
                condition=Q(sla_breach_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_remind_at"],
                name="ticket_resolution_remind",
                condition=Q(resolution_remind_at__isnull=False),
            ),
            models.Index(
                fields=["resolution_breach_at"],
                name="ticket_resolution_breach",
                condition=Q(resolution_breach_at__isnull=False),
            ),
            models.Index(
                fields=["department_remind_at"],
                name="ticket_department_remind",
                condition=Q(department_remind_at__isnull=False),
            ),
            models.Index(
                fields=["department_breach_at"],
                name="ticket_department_breach",
                condition=Q(department_breach_at__isnull=False),
            ),
            # The dashboard's «просрочено отделами»: open escalated tickets by deadline.
            models.Index(
                fields=["department_due"],
                name="ticket_department_open",
                condition=Q(department_due__isnull=False, status__in=["new", "open", "pending"]),
            ),
            models.Index(
                fields=["resolved_at"],
                name="ticket_resolved_open",
                condition=Q(status="resolved"),
            ),
            # Supervisor dashboard (tickets.dashboard.selectors): period range scans.
            models.Index(fields=["queue", "created_at"], name="ticket_queue_created"),
            models.Index(fields=["first_response_at"], name="ticket_first_response"),
            models.Index(fields=["resolved_at"], name="ticket_resolved"),
            models.Index(
                Least(Coalesce("first_response_at", "first_response_due"), "first_response_due"),
                name="ticket_sla_decided",
            ),
            # Open tickets by queue/assignee/status with their SLA fields: an index-only
            # scan on PostgreSQL (SQLite gets the partial index without INCLUDE).
            models.Index(
                fields=["status", "queue", "assignee"],
                name="ticket_open_breakdown",
                condition=Q(status__in=["new", "open", "pending"]),
                include=[
                    "id",
                    "channel",
                    "line",
                    "first_response_due",
                    "first_response_at",
                    "sla_paused_at",
                ],
            ),
        ]
        permissions = [
            ("view_personal_data", _("Can see requesters' personal data in full")),
            ("supervise", _("Can see the supervisor dashboard and all queues")),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.subject}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("admin:tickets_ticket_change", args=[self.pk])

    @property
    def reference(self) -> str:
        """The number as people see it: SP-0042."""
        return format_ticket_number(self.number)

    def get_status_url(self) -> str:
        """The citizen's private status link (number + secret token)."""
        from django.urls import reverse

        return f"{reverse('tickets:status', args=[self.reference])}?t={self.token}"

    @property
    def is_open(self) -> bool:
        return self.status not in (self.Status.RESOLVED, self.Status.CLOSED)
