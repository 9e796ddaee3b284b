"""API tokens: shown once as `hd_<prefix>_<secret>`, stored as the prefix (to find the
row) and the SHA-256 of the secret (to check it). Nothing stored opens the API."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    TICKETS_READ = "tickets:read", _("read tickets")
    TICKETS_WRITE = "tickets:write", _("create and change tickets")
    TICKETS_INTERNAL = "tickets:internal", _("read and write internal notes")
    CONTACTS_READ = "contacts:read", _("look up contacts")
    KB_READ = "kb:read", _("read the knowledge base")
    CALLS_READ = "calls:read", _("read the call log")
    CALLS_WRITE = "calls:write", _("record call-back outcomes")


class ApiToken(models.Model):
    """A token acts as its user, narrowed by its scopes and (optionally) queues."""

    name = models.CharField(_("name"), max_length=100, help_text=_("Who uses it, for what."))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    queues = models.ManyToManyField(
        "tickets.Queue",
        verbose_name=_("queues"),
        blank=True,
        related_name="+",
        help_text=_("Empty: every queue its user may see."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.CharField(_("last used from"), max_length=64, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"hd_{self.prefix}_… ({self.name})"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def is_active_at(self, now) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
