"""Registering appeals: one at a time (`ticket_create`), or many in one transaction
(`tickets_create_many`, for a batch of e-mails), with the same rows and the same rules."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notification_enqueue_many
from tickets import notify
from tickets.models import Contact, InboundEmail, Message, Queue, Ticket, TicketEvent
from tickets.numbering import ticket_number_next, ticket_numbers_reserve
from tickets.services.attachments import attachments_add
from tickets.sla import resolution_arm, sla_arm, sla_due_times


@dataclass
class TicketDraft:
    """What `tickets_create_many` needs for one appeal; `ticket` and `message` are set
    when it has been created."""

    queue: Queue
    requester: Contact
    channel: str
    subject: str
    text: str
    kind: str = Ticket.Kind.QUESTION
    priority: str = Ticket.Priority.NORMAL
    language: str = "ru"
    html: str = ""
    full_text: str = ""
    email_message_id: str = ""
    inbound_email: InboundEmail | None = None
    auto_reply: bool = True
    ticket: Ticket | None = field(default=None, init=False)
    message: Message | None = field(default=None, init=False)


def _ticket_new(*, draft: TicketDraft, number: int, now: datetime) -> Ticket:
    first_due, resolution_due = sla_due_times(queue=draft.queue, start=now)
    ticket = Ticket(
        number=number,
        queue=draft.queue,
        requester=draft.requester,
        channel=draft.channel,
        subject=(draft.subject or "").strip()[:255] or _("(no subject)"),
        kind=draft.kind,
        priority=draft.priority,
        language=draft.language,
        created_at=now,
        last_activity_at=now,
        first_response_due=first_due,
        resolution_due=resolution_due,
    )
    sla_arm(ticket)
    resolution_arm(ticket)
    return ticket


def _first_message_new(*, draft: TicketDraft, ticket: Ticket, actor, now: datetime) -> Message:
    return Message(
        ticket=ticket,
        author_kind=Message.Author.REQUESTER,
        author=actor,
        channel=draft.channel,
        text=draft.text,
        html=draft.html,
        full_text=draft.full_text,
        email_message_id=draft.email_message_id,
        inbound_email=draft.inbound_email,
        created_at=now,
    )


def _created_event_new(*, ticket: Ticket, actor, now: datetime) -> TicketEvent:
    return TicketEvent(
        ticket=ticket,
        kind=TicketEvent.Kind.CREATED,
        actor=actor,
        actor_label=actor.get_username() if actor else ticket.requester.full_name,
        new_value=ticket.reference,
        note=Ticket.Channel(ticket.channel).label,
        created_at=now,
    )


def _auto_assign(ticket: Ticket) -> Ticket:
    if settings.AUTO_ASSIGN and ticket.queue.auto_assign:
        from tickets.services.assignment import ticket_auto_assign

        return ticket_auto_assign(ticket=ticket)
    return ticket


# No savepoint (two statements per appeal): a failure here fails the caller's
# transaction; callers that go on after one (mail batches) hold their own savepoint.
@transaction.atomic(savepoint=False)
def ticket_create(
    *,
    queue: Queue,
    requester: Contact,
    channel: str,
    subject: str,
    text: str,
    kind: str = Ticket.Kind.QUESTION,
    priority: str = Ticket.Priority.NORMAL,
    language: str = "ru",
    actor=None,
    html: str = "",
    full_text: str = "",
    attachments: Iterable[UploadedFile] = (),
    email_message_id: str = "",
    inbound_email: InboundEmail | None = None,
    auto_reply: bool = True,
) -> Ticket:
    """Register an appeal: number, ticket, first message, attachments, history, auto-reply.

    The auto-reply is an outbox row written in this transaction (regulation 2); it is
    sent after commit, so a broker outage never loses it.
    """
    draft = TicketDraft(
        queue=queue,
        requester=requester,
        channel=channel,
        subject=subject,
        text=text,
        kind=kind,
        priority=priority,
        language=language,
        html=html,
        full_text=full_text,
        email_message_id=email_message_id,
        inbound_email=inbound_email,
    )
    now = timezone.now()
    ticket = _ticket_new(draft=draft, number=ticket_number_next(), now=now)
    ticket.save(force_insert=True)
    message = _first_message_new(draft=draft, ticket=ticket, actor=actor, now=now)
    message.save(force_insert=True)
    attachments_add(ticket=ticket, message=message, files=attachments)
    _created_event_new(ticket=ticket, actor=actor, now=now).save(force_insert=True)
    if auto_reply:
        notify.ticket_received(ticket=ticket, message=message)
    # No live push here: nobody can be subscribed to a ticket that did not exist, and
    # the publish costs a quarter of an appeal's CPU time (bench/README.md, intake).
    return _auto_assign(ticket)


@transaction.atomic(savepoint=False)
def tickets_create_many(*, drafts: list[TicketDraft]) -> list[Ticket]:
    """`ticket_create` for many appeals in one go: numbers in the order of `drafts`,
    then one INSERT each for the tickets, their first messages, their history entries
    and their auto-replies, instead of six statements per appeal.

    The requesters must be saved already. No attachments: store them afterwards with
    `attachments_add` on `draft.message`.
    """
    if not drafts:
        return []
    now = timezone.now()
    numbers = ticket_numbers_reserve(len(drafts))
    tickets = [
        _ticket_new(draft=draft, number=number, now=now)
        for draft, number in zip(drafts, numbers, strict=True)
    ]
    Ticket.objects.bulk_create(tickets)
    messages = [
        _first_message_new(draft=draft, ticket=ticket, actor=None, now=now)
        for draft, ticket in zip(drafts, tickets, strict=True)
    ]
    Message.objects.bulk_create(messages)
    TicketEvent.objects.bulk_create(
        [_created_event_new(ticket=ticket, actor=None, now=now) for ticket in tickets]
    )
    items = [
        notify.ticket_received_item(ticket=ticket, message=message)
        for draft, ticket, message in zip(drafts, tickets, messages, strict=True)
        if draft.auto_reply
    ]
    notification_enqueue_many(items=[item for item in items if item])
    for draft, ticket, message in zip(drafts, tickets, messages, strict=True):
        draft.ticket, draft.message = _auto_assign(ticket), message
    return [draft.ticket for draft in drafts]
