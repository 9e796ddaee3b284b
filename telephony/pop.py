"""The screen pop: when a call rings for (or is answered by) an operator, their open admin
pages show who is calling, the caller's open tickets and call-backs, and "register call"
pre-filled with the number.

What crosses the channel layer is only the call record's id, sent to the one operator's
group after commit: no number or name passes through Redis, and a socket builds its
panel with `screen_pop_for`, which reads through the staff access layer as that socket's
user. A call that does not ring a given operator never reaches their group.
"""

import logging
from urllib.parse import urlencode

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.urls import reverse

from telephony.models import CallRecord
from tickets.access import callbacks_for_staff, tickets_for_staff, user_sees_personal_data
from tickets.models import Ticket
from tickets.selectors_admin import mask_email, mask_name

logger = logging.getLogger(__name__)

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)
POP_TICKETS = 5
POP_CALLBACKS = 3


def pop_group(user_id: int) -> str:
    return f"phone.pop.{user_id}"


def screen_pop_publish(*, record: CallRecord, user_id: int, event: str) -> None:
    """After commit, tell one operator's sockets that `record` rings them (best effort:
    a channel-layer failure never loses the call record)."""
    payload = {"type": "phone.pop", "record": record.pk, "event": event}

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(pop_group(user_id), payload)
        except Exception:  # noqa: BLE001 - the pop is best effort; the call is logged
            logger.warning("screen pop for call %s not sent", record.pk, exc_info=True)

    transaction.on_commit(send)


def _ticket_row(ticket: Ticket) -> dict:
    return {
        "number": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.get_status_display(),
        "url": ticket.get_absolute_url(),
    }


def screen_pop_for(user, record_id: int) -> dict | None:
    """The panel for this operator, or None when the call is not theirs to see: it must
    ring or have been answered by them (`rang_for`/`operator`). Tickets and call-backs
    are only those the staff access layer lets them see; the name and e-mail are masked
    without the personal-data permission. The number itself is shown: their handset
    displays it anyway, and "register call" needs it."""
    record = CallRecord.objects.filter(pk=record_id).first()
    if record is None or user.pk not in (record.rang_for_id, record.operator_id):
        return None
    number = record.citizen_number
    full = user_sees_personal_data(user)
    tickets = list(
        tickets_for_staff(user)
        .filter(requester__phone=number, status__in=OPEN_STATUSES)
        .select_related("requester")
        .order_by("-created_at")[:POP_TICKETS]
        if number.startswith("+")
        else []
    )
    callbacks = list(
        callbacks_for_staff(user)
        .filter(phone=number, closed_at__isnull=True)
        .select_related("ticket")
        .order_by("due_at")[:POP_CALLBACKS]
        if number.startswith("+")
        else []
    )
    contact = None
    if tickets:
        requester = tickets[0].requester
        contact = {
            "name": requester.full_name if full else mask_name(requester.full_name),
            "email": requester.email if full else mask_email(requester.email),
        }
    register = reverse("admin:tickets_ticket_register_call")
    query = {"q": number} if number.startswith("+") else {}
    return {
        "type": "pop",
        "call": record.call_id,
        "state": "answered" if record.answer_at else "ringing",
        "number": number,
        "contact": contact,
        "tickets": [_ticket_row(ticket) for ticket in tickets],
        "callbacks": [
            {"number": callback.ticket.reference, "due_at": callback.due_at.isoformat()}
            for callback in callbacks
        ],
        "register_url": f"{register}?{urlencode(query)}" if query else register,
    }
