import re

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def default_sla_hours() -> int:
    return settings.SLA_FIRST_RESPONSE_HOURS


def default_reminder_percent() -> int:
    return settings.SLA_REMINDER_PERCENT


# The queue migration 0008 creates on a fresh install (seed_demo takes it over).
DEFAULT_QUEUE_SLUG = "general"


class Queue(models.Model):
    """One queue per service ("Сайт Навигатора", "Система бронирования"): regulation 8."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    description = models.TextField(_("description"), blank=True)
    email_address = models.EmailField(
        _("inbound e-mail address"),
        blank=True,
        db_index=True,
        help_text=_("Mail to this address lands in this queue; replies are sent from it."),
    )
    sla_first_response_hours = models.PositiveIntegerField(
        _("first answer due, hours"), default=default_sla_hours
    )
    sla_resolution_hours = models.PositiveIntegerField(
        _("resolution due, hours"), null=True, blank=True
    )
    sla_reminder_percent = models.PositiveSmallIntegerField(
        _("reminder at, % of the SLA time"), default=default_reminder_percent
    )
    calendar = models.ForeignKey(
        "tickets.BusinessCalendar",
        verbose_name=_("business calendar"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queues",
        help_text=_(
            "Empty: the SLA clock runs around the clock (24/7). With a calendar the due "
            "times count working hours only."
        ),
    )
    pause_sla_when_pending = models.BooleanField(
        _("pause the SLA clock while waiting for the citizen"), default=True
    )
    auto_assign = models.BooleanField(
        _("assign new tickets to the least-loaded operator"), default=False
    )
    operators_group = models.ForeignKey(
        Group,
        verbose_name=_("operators"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="queues",
        help_text=_("First-line operators who work this queue."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # Regulation 8: a queue's own wording of the mails to citizens; empty = the global
    # template. Rendered by tickets/mail_templates.py with nothing but its placeholders.
    auto_reply_subject = models.CharField(_("auto-reply: subject"), max_length=255, blank=True)
    auto_reply_text = models.TextField(_("auto-reply: text"), blank=True)
    answer_subject = models.CharField(_("answer: subject"), max_length=255, blank=True)
    answer_text = models.TextField(_("answer: text"), blank=True)
    resolved_subject = models.CharField(_("«solved?» mail: subject"), max_length=255, blank=True)
    resolved_text = models.TextField(_("«solved?» mail: text"), blank=True)
    redirected_subject = models.CharField(
        _("«redirected» mail: subject"), max_length=255, blank=True
    )
    redirected_text = models.TextField(_("«redirected» mail: text"), blank=True)
    signature = models.TextField(
        _("signature"), blank=True, help_text=_("Added under every mail to citizens of this queue.")
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")

    def __str__(self) -> str:
        return self.name

    @property
    def time_zone(self) -> str:
        """The zone citizens are told this queue's times in (empty: TIME_ZONE)."""
        return self.calendar.time_zone if self.calendar_id else ""


# The only environment variables a mailbox may read its password from: any name at all
# would let whoever edits mailboxes send SECRET_KEY or DATABASE_URL to an IMAP server
# of their choosing as a "password".
PASSWORD_ENV_PREFIX = "IMAP_PASSWORD_"
_PASSWORD_ENV_NAME = re.compile(rf"^{PASSWORD_ENV_PREFIX}[A-Z0-9_]+$")


def password_env_allowed(name: str) -> bool:
    return bool(_PASSWORD_ENV_NAME.match(name or ""))


class Mailbox(models.Model):
    """An IMAP mailbox polled into a queue."""

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("none (local testing only)")

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="mailboxes"
    )
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security.choices, default=Security.SSL
    )
    username = models.CharField(_("user name"), max_length=255)
    password = models.CharField(
        _("password"),
        max_length=255,
        blank=True,
        help_text=_("Leave empty to read it from the environment variable below."),
    )
    # A name starting with IMAP_PASSWORD_ (clean() says so; no help text: no migration).
    password_env = models.CharField(_("password environment variable"), max_length=100, blank=True)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    archive_folder = models.CharField(
        _("move processed mail to"),
        max_length=255,
        blank=True,
        help_text=_("Empty: processed messages are deleted after they are saved."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.username}@{self.host}/{self.folder}"

    def clean(self) -> None:
        errors = {}
        if self.password_env and not password_env_allowed(self.password_env):
            errors["password_env"] = _(
                "Only environment variables named IMAP_PASSWORD_… (capital letters, digits, "
                "underscores) may hold a mailbox password."
            )
        if self.security == self.Security.NONE and not settings.IMAP_ALLOW_INSECURE:
            errors["security"] = _(
                "IMAP without TLS sends the password in clear; choose SSL/TLS or STARTTLS "
                "(IMAP_ALLOW_INSECURE=true allows it, for local testing only)."
            )
        if errors:
            raise ValidationError(errors)
