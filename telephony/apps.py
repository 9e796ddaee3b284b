from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TelephonyConfig(AppConfig):
    name = "telephony"
    verbose_name = _("Telephony")

    def ready(self) -> None:
        # The call log on the ticket page, through tickets' panel registry (tickets
        # never imports telephony).
        from telephony import dashboard_panel, panels
        from telephony.services import calls_anonymise
        from tickets.services import retention_anonymiser_register

        panels.register()
        # The phone figures on the supervisor dashboard, through its panel registry.
        dashboard_panel.register()
        # Retention reaches the call log's numbers too (tickets never imports telephony).
        retention_anonymiser_register(calls_anonymise)
