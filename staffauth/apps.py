from django.apps import AppConfig
from django.core.checks import register
from django.utils.translation import gettext_lazy as _


class StaffauthConfig(AppConfig):
    name = "staffauth"
    verbose_name = _("Staff sign-in")

    def ready(self) -> None:
        from staffauth import checks, receivers

        receivers.connect()
        register(checks.check_webauthn_relying_party)
