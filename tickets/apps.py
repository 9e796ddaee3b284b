from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Appeals")

    def ready(self) -> None:
        # Anymail inbound webhooks → e-mail intake (a thin adapter, no logic here).
        from tickets.intake import webhooks

        webhooks.connect()
