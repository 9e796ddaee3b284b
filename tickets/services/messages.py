"""Adding to the conversation: what the requester says, operators' answers and notes."""

from collections.abc import Iterable

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from tickets import notify
from tickets.events import ticket_event_publish
from tickets.models import InboundEmail, Message, Ticket, TicketEvent
from tickets.services.attachments import attachments_add
from tickets.services.history import event_record
from tickets.services.tickets import ticket_lock
from tickets.workflow import ticket_transition


class TicketClosedError(Exception):
    """The ticket is closed: the caller must continue in a new ticket (regulation 3.11)."""

    def __init__(self, ticket: Ticket):
        super().__init__(ticket.reference)
        self.ticket = ticket


@transaction.atomic
def message_add_from_requester(
    *,
    ticket: Ticket,
    text: str,
    channel: str,
    html: str = "",
    full_text: str = "",
    attachments: Iterable[UploadedFile] = (),
    email_message_id: str = "",
    inbound_email: InboundEmail | None = None,
    reopen: bool = True,
    actor=None,
) -> Message:
    """The citizen adds to their appeal. A reply reopens a resolved ticket.

    `reopen=False` for auto-generated mail (out-of-office must not reopen anything).
    Raises `TicketClosedError` for a closed ticket.
    """
    ticket = ticket_lock(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        raise TicketClosedError(ticket)
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        author_kind=Message.Author.REQUESTER,
        author=actor,
        channel=channel,
        text=text,
        html=html,
        full_text=full_text,
        email_message_id=email_message_id,
        inbound_email=inbound_email,
        created_at=now,
    )
    attachments_add(ticket=ticket, message=message, files=attachments)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.MESSAGE,
        actor=actor,
        actor_label=actor.get_username() if actor else ticket.requester.full_name,
        note=Ticket.Channel(channel).label,
    )
    if reopen and ticket.status == Ticket.Status.RESOLVED:
        ticket_transition(ticket=ticket, to=Ticket.Status.OPEN, actor_label="requester")
        notify.ticket_reopened(ticket=ticket)
    elif reopen and ticket.status == Ticket.Status.PENDING:
        ticket_transition(ticket=ticket, to=Ticket.Status.OPEN, actor_label="requester")
    else:
        ticket.last_activity_at = now
        ticket.save(update_fields=["last_activity_at", "updated_at"])
    ticket_event_publish(ticket=ticket, event="message.new", message=message)
    return message


@transaction.atomic
def message_add_reply(
    *,
    ticket: Ticket,
    author,
    text: str,
    is_internal: bool = False,
    html: str = "",
    attachments: Iterable[UploadedFile] = (),
    resolve: bool = False,
    notify_requester: bool = True,
) -> Message:
    """An operator answers (or writes an internal note).

    The first public answer stops the SLA clock (regulation 3). The answer goes to the
    citizen through the outbox; `resolve` also marks the ticket solved and asks whether
    it was (regulation 4).
    """
    ticket = ticket_lock(ticket)
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        author_kind=Message.Author.OPERATOR,
        author=author,
        is_internal=is_internal,
        channel=ticket.channel,
        text=text,
        html=html,
        created_at=now,
    )
    attachments_add(ticket=ticket, message=message, files=attachments)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.NOTE if is_internal else TicketEvent.Kind.MESSAGE,
        actor=author,
    )
    if not is_internal:
        fields = ["last_activity_at", "updated_at"]
        ticket.last_activity_at = now
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            ticket.sla_remind_at = None
            ticket.sla_breach_at = None
            fields += ["first_response_at", "sla_remind_at", "sla_breach_at"]
        if ticket.assignee_id is None and author is not None:
            ticket.assignee = author
            fields.append("assignee")
        ticket.save(update_fields=fields)
        if ticket.status == Ticket.Status.NEW:
            ticket_transition(ticket=ticket, to=Ticket.Status.OPEN, actor=author)
        if resolve and ticket.status != Ticket.Status.RESOLVED:
            ticket_transition(ticket=ticket, to=Ticket.Status.RESOLVED, actor=author)
            # One mail: the answer together with "was your problem solved?".
            if notify_requester:
                notify.ticket_resolved(ticket=ticket, message=message)
        elif notify_requester:
            notify.ticket_answered(ticket=ticket, message=message)
    ticket_event_publish(ticket=ticket, event="message.new", message=message)
    return message
