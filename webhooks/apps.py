from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Outgoing webhooks")

    def ready(self) -> None:
        from tickets.services import retention_anonymiser_register
        from tickets.signals import history_recorded
        from webhooks import receivers
        from webhooks.services import deliveries_anonymise

        history_recorded.connect(receivers.on_history_recorded, dispatch_uid="webhooks_history")
        # Payloads hold what was said on the ticket: erased with the requester's data.
        retention_anonymiser_register(deliveries_anonymise)
