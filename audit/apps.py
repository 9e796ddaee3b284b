from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        # Django's own auth signals (and django-axes' lockout signal when it is
        # installed) are recorded here: they are Django's, not another app of ours.
        from audit import receivers

        receivers.connect()
