from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TicketLink(models.Model):
    """A directed link; every link is stored both ways (see `Kind.inverse`)."""

    class Kind(models.TextChoices):
        RELATED = "related", _("related to")
        CONTINUES = "continues", _("continues")
        CONTINUED_BY = "continued_by", _("continued in")
        PARENT_OF = "parent_of", _("parent of")
        CHILD_OF = "child_of", _("child of")
        DUPLICATE_OF = "duplicate_of", _("duplicate of")
        HAS_DUPLICATE = "has_duplicate", _("has duplicate")
        MERGED_INTO = "merged_into", _("merged into")
        MERGED_FROM = "merged_from", _("merged from")

        @property
        def inverse(self) -> "TicketLink.Kind":
            return _INVERSE[self]

    source = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="links")
    target = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("link"), max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("link")
        verbose_name_plural = _("links")
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="link_unique"),
            models.CheckConstraint(
                condition=~models.Q(source=models.F("target")), name="link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target.reference}"


_K = TicketLink.Kind
_INVERSE = {
    _K.RELATED: _K.RELATED,
    _K.CONTINUES: _K.CONTINUED_BY,
    _K.CONTINUED_BY: _K.CONTINUES,
    _K.PARENT_OF: _K.CHILD_OF,
    _K.CHILD_OF: _K.PARENT_OF,
    _K.DUPLICATE_OF: _K.HAS_DUPLICATE,
    _K.HAS_DUPLICATE: _K.DUPLICATE_OF,
    _K.MERGED_INTO: _K.MERGED_FROM,
    _K.MERGED_FROM: _K.MERGED_INTO,
}
