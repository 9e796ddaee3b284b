"""The security audit log: append-only rows, each chained to the previous by its hash."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AppendOnlyError(RuntimeError):
    """An audit row was about to be changed or deleted outside the pruning path."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only; pruning is audit_prune()")

    update.queryset_only = True
    delete.queryset_only = True


class AuditEvent(models.Model):
    """One security-relevant event. Written only by `audit.services.audit_record`.

    `hash` is sha256(prev_hash + canonical JSON of the row's own content)
    (`audit.chain.event_hash`); `prev_hash` is the hash of the row before it by id.
    Editing, deleting or reordering rows breaks the chain (`manage.py audit_verify`).
    """

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # No database constraint and no cascade: the row keeps the id and the label of a
    # user deleted later, and deleting a user never touches (or is blocked by) the log.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    address = models.CharField(_("address"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_ref = models.CharField(_("object"), max_length=200, blank=True, db_index=True)
    object_label = models.CharField(_("object label"), max_length=200, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ("-id",)
        indexes = [models.Index(fields=["actor", "-id"], name="audit_event_actor_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.actor_label}".strip()

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only; pruning is audit_prune()")


class AuditChainHead(models.Model):
    """The single row (pk=1) that every append locks: the chain never forks.

    `hash`/`last_id` are those of the newest event (a deleted newest row is then
    noticed); `pruned_hash`/`pruned_through_id` those of the last row removed by
    retention, so verification starts from there.
    """

    SINGLETON_PK = 1

    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_id = models.BigIntegerField(default=0)
    pruned_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    pruned_through_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"audit chain head {self.hash[:12]}… (event {self.last_id})"
