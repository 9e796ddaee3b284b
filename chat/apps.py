from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = _("Live chat")

    def ready(self):
        from chat import dashboard, panels
        from chat.services import chat_sessions_anonymise
        from tickets.services import retention_anonymiser_register

        # Chat sessions keep the citizen's name and e-mail: erased with the requester's.
        retention_anonymiser_register(chat_sessions_anonymise)
        # The waiting time and the ratings of chats on the supervisor dashboard.
        dashboard.register()
        # The citizens' ratings of a ticket's chats on its page.
        panels.register()
