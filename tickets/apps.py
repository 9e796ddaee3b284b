from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Appeals")

    def ready(self) -> None:
        # Anymail inbound webhooks → e-mail intake (a thin adapter, no logic here); the
        # e-mail doors' and the project's deployment checks (helpdesk/checks.py) register
        # themselves when imported.
        import helpdesk.checks  # noqa: F401
        from tickets.intake import checks, webhooks  # noqa: F401

        webhooks.connect()

        # A changed queue address must stop auto-mails to it at once in this process.
        from django.db.models.signals import post_delete, post_save

        from tickets import notify
        from tickets.models import Queue

        def forget(**kwargs) -> None:
            notify.queue_addresses_forget()

        post_save.connect(forget, sender=Queue, dispatch_uid="queue_addresses_forget")
        post_delete.connect(forget, sender=Queue, dispatch_uid="queue_addresses_forget_del")
