"""A locmem-like e-mail backend that records its connections and can refuse one address
or look at the outbox while a mail is being handed over (for the batch tests)."""

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    opened = 0
    refuse: set[str] = set()
    on_send = None  # called with each message just before it is "delivered"

    def open(self):
        type(self).opened += 1
        return True

    def send_messages(self, email_messages):
        for message in email_messages:
            if set(message.to) & self.refuse:
                raise ConnectionResetError(f"550 refused: {message.to[0]}")
            if self.on_send is not None:
                type(self).on_send(message)
            mail.outbox.append(message)
        return len(email_messages)
