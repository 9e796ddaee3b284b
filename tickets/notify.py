"""What the citizen and staff are told, and when: ticket events → outbox rows.

Called by services inside their transaction. `notifications` knows nothing of tickets,
so everything a template needs goes into the context here.
"""

from django.conf import settings
from django.utils import formats, timezone, translation

from notifications.models import Notification
from notifications.services import notification_enqueue
from tickets.models import Message, Ticket


def _context(ticket: Ticket) -> dict:
    due = ticket.first_response_due
    with translation.override(ticket.language):
        due_text = formats.date_format(timezone.localtime(due), "DATETIME_FORMAT") if due else ""
    return {
        "number": ticket.reference,
        "subject": ticket.subject,
        "name": ticket.requester.full_name,
        "queue": ticket.queue.name,
        "status": ticket.status,
        "due": due_text,
        "sla_hours": ticket.queue.sla_first_response_hours,
        "status_url": f"{settings.SITE_URL}{ticket.get_status_url()}",
    }


def _thread_headers(ticket: Ticket) -> dict:
    """In-Reply-To / References to the requester's first mail, so clients thread it."""
    first = (
        Message.objects.filter(ticket=ticket, author_kind=Message.Author.REQUESTER)
        .exclude(email_message_id="")
        .order_by("created_at", "id")
        .values_list("email_message_id", flat=True)
        .first()
    )
    return {"In-Reply-To": first, "References": first} if first else {}


def _send_to_requester(
    *, ticket: Ticket, template: str, kind: str, key: str, extra: dict | None = None
) -> Notification | None:
    email = ticket.requester.email
    if not email:
        return None
    return notification_enqueue(
        recipient=email,
        template=template,
        kind=kind,
        idempotency_key=key,
        context={**_context(ticket), **(extra or {})},
        language=ticket.language,
        reference=ticket.reference,
        from_email=ticket.queue.email_address or "",
        headers=_thread_headers(ticket),
    )


def ticket_received(*, ticket: Ticket, message: Message) -> Notification | None:
    """Regulation 2: the number and the deadline, at once."""
    return _send_to_requester(
        ticket=ticket,
        template="auto_reply",
        kind=Notification.Kind.AUTO_REPLY,
        key=f"ticket:{ticket.pk}:received",
    )


def ticket_answered(*, ticket: Ticket, message: Message) -> Notification | None:
    if ticket.channel == Ticket.Channel.CHAT:
        return None  # said in the chat itself; the transcript is mailed on request
    return _send_to_requester(
        ticket=ticket,
        template="answer",
        kind=Notification.Kind.PERSONAL,
        key=f"message:{message.pk}:answer",
        extra={"text": message.text, "operator": _operator_name(message)},
    )


def ticket_resolved(*, ticket: Ticket, message: Message | None = None) -> Notification | None:
    """Regulation 4: told at once, and asked whether the problem was solved."""
    extra = {"text": message.text, "operator": _operator_name(message)} if message else {}
    return _send_to_requester(
        ticket=ticket,
        template="resolved",
        kind=Notification.Kind.NOTICE,
        key=f"ticket:{ticket.pk}:resolved:{ticket.reopened_count}",
        extra=extra,
    )


def ticket_reopened(*, ticket: Ticket) -> Notification | None:
    return _send_to_requester(
        ticket=ticket,
        template="reopened",
        kind=Notification.Kind.NOTICE,
        key=f"ticket:{ticket.pk}:reopened:{ticket.reopened_count}",
    )


def _operator_name(message: Message | None) -> str:
    if message is None or message.author is None:
        return ""
    return message.author.get_full_name() or message.author.get_username()
