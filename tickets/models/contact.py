from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.validators import validate_inn, validate_phone


class Contact(models.Model):
    """A requester. Personal data: shown in full only to staff (regulation 10)."""

    full_name = models.CharField(_("full name"), max_length=255)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, db_index=True, validators=[validate_phone]
    )
    organisation = models.CharField(_("organisation"), max_length=255, blank=True)
    inn = models.CharField(
        _("INN"), max_length=12, blank=True, db_index=True, validators=[validate_inn]
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        return self.full_name or self.email or self.phone
