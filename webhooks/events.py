"""Which webhook event a history entry is, and the JSON payload sent for it.

Built from the ticket as it stands inside the transaction that wrote the history, and
stored on the delivery: a retry sends the same payload. Payloads name no contact (no
name, e-mail, phone or INN: integrators fetch those through the API with a token that
may see them), and never carry internal notes: a note writes history of its own kind
(`note`), which maps to no event, and the notes attached to other entries (an escalation's
or a status change's note) are never copied into a payload.
"""

from django.conf import settings
from django.db.models import Max
from django.urls import reverse

from tickets.models import CallbackRequest, Message, Ticket, TicketEvent
from webhooks.models import EventType

Kind = TicketEvent.Kind

KIND_EVENTS = {
    Kind.CREATED: EventType.TICKET_CREATED,
    Kind.STATUS: EventType.TICKET_STATUS_CHANGED,
    Kind.ASSIGNED: EventType.TICKET_ASSIGNED,
    Kind.ESCALATED: EventType.TICKET_ESCALATED,
    Kind.MESSAGE: EventType.MESSAGE_CREATED,
    Kind.LINE: EventType.TICKET_UPDATED,
    Kind.FIELD: EventType.TICKET_UPDATED,
    Kind.LINKED: EventType.TICKET_UPDATED,
    Kind.MERGED: EventType.TICKET_UPDATED,
    Kind.SATISFACTION: EventType.TICKET_UPDATED,
    # Kind.NOTE (internal note) and Kind.NOTIFIED (a mail went out) send nothing.
}
SLA_EVENTS = {
    "sla_remind_at": EventType.SLA_REMINDER,
    "sla_breach_at": EventType.SLA_BREACHED,
}
# tickets/services/callbacks.py writes `callback` history with new_value "requested" for a
# new call-back and the outcome code for each attempt.
CALLBACK_REQUESTED = "requested"
# Events whose payload carries the (latest public) message of the ticket.
WITH_MESSAGE = {EventType.TICKET_CREATED, EventType.MESSAGE_CREATED}


def event_type_for(event: TicketEvent) -> str | None:
    if event.kind == Kind.SLA:
        return SLA_EVENTS.get(event.field)
    if event.kind == Kind.CALLBACK:
        if event.new_value == CALLBACK_REQUESTED:
            return EventType.CALLBACK_CREATED
        return EventType.CALLBACK_UPDATED
    return KIND_EVENTS.get(event.kind)


def _time(value) -> str | None:
    return value.isoformat() if value else None


def ticket_payload(ticket: Ticket) -> dict:
    return {
        "id": ticket.pk,
        "number": ticket.reference,
        "subject": ticket.subject,
        "status": ticket.status,
        "queue": ticket.queue.slug,
        "channel": ticket.channel,
        "kind": ticket.kind,
        "priority": ticket.priority,
        "line": ticket.line,
        "assignee": ticket.assignee.get_username() if ticket.assignee_id else None,
        "created_at": _time(ticket.created_at),
        "updated_at": _time(ticket.updated_at),
        "first_response_due": _time(ticket.first_response_due),
        "first_response_at": _time(ticket.first_response_at),
        "resolved_at": _time(ticket.resolved_at),
        "url": settings.SITE_URL + reverse("admin:tickets_ticket_change", args=[ticket.pk]),
    }


def message_payload(message: Message) -> dict:
    return {
        "id": message.pk,
        "author_kind": message.author_kind,
        # An operator's user name; a citizen is never named.
        "author": message.author.get_username() if message.author_id else None,
        "channel": message.channel,
        "text": message.text,
        "created_at": _time(message.created_at),
    }


def callback_payload(callback: CallbackRequest) -> dict:
    # No phone number and no reason (the citizen's own words): only when and how it went.
    return {
        "id": callback.pk,
        "source": callback.source,
        "window_date": callback.window_date.isoformat() if callback.window_date else None,
        "window": callback.window or None,
        "due_at": _time(callback.due_at),
        "attempts": callback.attempts,
        "outcome": callback.outcome or None,
        "closed_at": _time(callback.closed_at),
    }


def _actor(event: TicketEvent) -> dict:
    if event.actor_id:
        return {"kind": "staff", "username": event.actor_label or event.actor.get_username()}
    if event.actor_label in ("system", ""):
        return {"kind": "system"}
    # The label is the citizen's name: not sent.
    return {"kind": "requester"}


def _change(event: TicketEvent, event_type: str) -> dict | None:
    if event_type in (EventType.SLA_REMINDER, EventType.SLA_BREACHED):
        return {"field": "first_response_due", "due": event.old_value or None}
    if event_type in WITH_MESSAGE or event_type == EventType.CALLBACK_CREATED:
        return None
    if event_type == EventType.CALLBACK_UPDATED:
        return {"field": "callback", "to": event.new_value or None}
    field = event.field or event.kind
    return {"field": field, "from": event.old_value or None, "to": event.new_value or None}


def _latest_public_messages(ticket_ids: list[int]) -> dict[int, Message]:
    """The newest public message of each ticket: the one just written, since the ticket's
    row lock is held while a message and its history entry are written."""
    if len(ticket_ids) == 1:
        message = (
            Message.objects.select_related("author")
            .filter(ticket_id=ticket_ids[0], is_internal=False)
            .order_by("-id")
            .first()
        )
        return {ticket_ids[0]: message} if message else {}
    last_ids = (
        Message.objects.filter(ticket_id__in=ticket_ids, is_internal=False)
        .values("ticket_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    messages = Message.objects.select_related("author").in_bulk(list(last_ids))
    return {message.ticket_id: message for message in messages.values()}


def _latest_callbacks(ticket_ids: list[int]) -> dict[int, CallbackRequest]:
    """The newest call-back of each ticket (written just before its history entry)."""
    if not ticket_ids:
        return {}
    latest: dict[int, CallbackRequest] = {}
    for callback in CallbackRequest.objects.filter(ticket_id__in=set(ticket_ids)).order_by("id"):
        latest[callback.ticket_id] = callback
    return latest


def payloads_build(typed: list[tuple[TicketEvent, str]]) -> list[tuple[TicketEvent, str, dict]]:
    """(event, event type, payload) for each (history entry, event type)."""
    ticket_ids = list(dict.fromkeys(event.ticket_id for event, _type in typed))
    tickets = Ticket.objects.select_related("queue", "assignee").in_bulk(ticket_ids)
    message_ticket_ids = [e.ticket_id for e, t in typed if t in WITH_MESSAGE]
    messages = _latest_public_messages(list(dict.fromkeys(message_ticket_ids)))
    callbacks = _latest_callbacks([e.ticket_id for e, t in typed if t.startswith("callback.")])
    built = []
    for event, event_type in typed:
        ticket = tickets.get(event.ticket_id)
        if ticket is None:
            continue
        payload = {
            "event": event_type,
            "occurred_at": _time(event.created_at),
            "actor": _actor(event),
            "ticket": ticket_payload(ticket),
        }
        change = _change(event, event_type)
        if change is not None:
            payload["change"] = change
        if event_type in WITH_MESSAGE and event.ticket_id in messages:
            payload["message"] = message_payload(messages[event.ticket_id])
        if event.ticket_id in callbacks and event_type.startswith("callback."):
            payload["callback"] = callback_payload(callbacks[event.ticket_id])
        built.append((event, event_type, payload))
    return built
