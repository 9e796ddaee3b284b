"""Push ticket changes to live listeners (the chat console) through the channel layer.

Only services call this, and the push happens after commit: listeners never see a
change that was rolled back. A channel-layer failure never breaks the change itself.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from tickets.models import Message, Ticket

logger = logging.getLogger(__name__)


def ticket_group_name(ticket_id: int) -> str:
    return f"ticket.{ticket_id}"


def _message_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "author_kind": message.author_kind,
        "author": message.author.get_full_name() or message.author.get_username()
        if message.author_id
        else "",
        "is_internal": message.is_internal,
        "channel": message.channel,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }


def ticket_event_publish(*, ticket: Ticket, event: str, message: Message | None = None) -> None:
    payload = {
        "type": "ticket.event",
        "event": event,
        "ticket_id": ticket.pk,
        "number": ticket.reference,
        "status": ticket.status,
    }
    if message is not None:
        payload["message"] = _message_payload(message)

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(ticket_group_name(ticket.pk), payload)
        except Exception:  # noqa: BLE001 - live push is best effort; the ticket is saved
            logger.warning("could not publish %s for ticket %s", event, ticket.pk, exc_info=True)

    transaction.on_commit(send)
