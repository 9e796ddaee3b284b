"""What the citizen and staff are told, and when: ticket events → outbox rows.

Called by services inside their transaction. `notifications` knows nothing of tickets,
so everything a template needs goes into the context here, and the idempotency key
names the event, so the same event never mails twice.
"""

import hashlib
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from notifications.automail import greeting_name
from notifications.models import Notification
from notifications.services import notification_enqueue
from tickets.citizen_time import citizen_datetime_in, citizen_deadline_in
from tickets.mail_templates import queue_mail_override
from tickets.models import Message, Queue, SatisfactionResponse, Ticket

# (read at, addresses): the queue addresses change a few times a year, appeals arrive
# many times a second. Saving or deleting a queue clears it in this process
# (TicketsConfig.ready); other processes see the change within QUEUE_ADDRESSES_TTL.
_queue_addresses: tuple[float, frozenset[str]] | None = None
QUEUE_ADDRESSES_TTL = 60.0


def queue_addresses() -> frozenset[str]:
    """Our inbound addresses: never mailed automatically (no loops between queues)."""
    global _queue_addresses
    cached = _queue_addresses
    if cached is not None and time.monotonic() - cached[0] < QUEUE_ADDRESSES_TTL:
        return cached[1]
    addresses = frozenset(
        address.lower()
        for address in Queue.objects.exclude(email_address="").values_list(
            "email_address", flat=True
        )
    )
    _queue_addresses = (time.monotonic(), addresses)
    return addresses


def queue_addresses_forget() -> None:
    global _queue_addresses
    _queue_addresses = None


def queue_sender(queue: Queue, language: str) -> str:
    """«Служба поддержки — Сайт Навигатора <navigator@…>»: the queue's address under a
    name people recognise in their inbox; "" when the queue has no address (the outbox
    then sends from DEFAULT_FROM_EMAIL)."""
    if not queue.email_address:
        return ""
    with translation.override(language):
        name = gettext("Support service — %(queue)s") % {"queue": queue.name}
    try:
        sender = str(Address(display_name=name, addr_spec=queue.email_address))
    except (ValueError, IndexError, HeaderParseError):
        return queue.email_address
    # Notification.from_email holds 320 characters.
    return sender if len(sender) <= 320 else queue.email_address


def _feedback_links(ticket: Ticket) -> dict:
    base = f"{settings.SITE_URL}{reverse('tickets:feedback', args=[ticket.reference])}"

    def link(**params) -> str:
        return f"{base}?{urlencode({'t': ticket.token, **params})}"

    return {
        "feedback_url": link(),
        "feedback_yes_url": link(solved="yes"),
        "feedback_no_url": link(solved="no"),
        "rating_urls": [(n, link(solved="yes", rating=n)) for n in range(1, 6)],
    }


def _context(ticket: Ticket) -> dict:
    """What mail to the requester may show. A web form or chat takes any e-mail address,
    so automatic mail must not repeat words a stranger typed to an address that never
    wrote to us (our official address would relay phishing): the subject only when the
    requester's own address sent it (an e-mail appeal), the name only if it looks like
    one. The number says which appeal it is."""
    return {
        "number": ticket.reference,
        "subject": ticket.subject if ticket.channel == Ticket.Channel.EMAIL else "",
        "name": greeting_name(ticket.requester.full_name),
        "queue": ticket.queue.name,
        "status": ticket.status,
        "status_label": _status_label(ticket.status, ticket.language),
        "due": citizen_deadline_in(
            ticket.first_response_due, queue=ticket.queue, language=ticket.language
        ),
        "sla_hours": ticket.queue.sla_first_response_hours,
        "working_hours": bool(ticket.queue.calendar_id),
        "status_url": f"{settings.SITE_URL}{ticket.get_status_url()}",
    }


def _status_label(status: str, language: str) -> str:
    with translation.override(language):
        return str(Ticket.Status(status).label)


def _thread_headers(ticket: Ticket, recipient: str, first: Message | None = None) -> dict:
    """In-Reply-To / References so every mail about the ticket lands in one thread.

    The thread root is the requester's first mail if the appeal came by e-mail, else
    our first mail to them (the auto-reply); the reply goes under their latest mail.
    `first`: the ticket's first message, when this is the first mail (no queries).
    """
    if first is not None:
        mid = first.email_message_id
        return {"In-Reply-To": mid, "References": mid} if mid else {}
    requester_ids = list(
        Message.objects.filter(ticket=ticket, author_kind=Message.Author.REQUESTER)
        .exclude(email_message_id="")
        .order_by("created_at", "id")
        .values_list("email_message_id", flat=True)
    )
    ours = (
        Notification.objects.filter(reference=ticket.reference, recipient=recipient.lower())
        .exclude(status=Notification.Status.SUPPRESSED)
        .order_by("created_at", "id")
        .values_list("message_id", flat=True)
        .first()
    )
    refs = list(dict.fromkeys([*requester_ids[:1], *requester_ids[-1:], *([ours] if ours else [])]))
    if not refs:
        return {}
    parent = requester_ids[-1] if requester_ids else ours
    return {"In-Reply-To": parent, "References": " ".join(refs)}


def _requester_item(
    *,
    ticket: Ticket,
    template: str,
    kind: str,
    key: str,
    extra: dict | None = None,
    first: Message | None = None,
) -> dict | None:
    """The outbox item of a mail to the requester, or None when they have no e-mail."""
    email = ticket.requester.email
    if not email:
        return None
    context = {**_context(ticket), **(extra or {})}
    context.update(queue_mail_override(ticket.queue, template=template, context=context))
    return {
        "recipient": email,
        "template": template,
        "kind": kind,
        "idempotency_key": key,
        "context": context,
        "language": ticket.language,
        "reference": ticket.reference,
        "from_email": queue_sender(ticket.queue, ticket.language),
        "headers": _thread_headers(ticket, email, first=first),
        "own": queue_addresses(),
    }


def _send_to_requester(**kwargs) -> Notification | None:
    item = _requester_item(**kwargs)
    return notification_enqueue(**item) if item else None


def ticket_received_item(*, ticket: Ticket, message: Message) -> dict | None:
    """Regulation 2: the number and the deadline, at once (an item for
    `notification_enqueue_many`, for tickets created together)."""
    return _requester_item(
        ticket=ticket,
        template="auto_reply",
        kind=Notification.Kind.AUTO_REPLY,
        key=f"ticket:{ticket.pk}:received",
        first=message,
    )


def ticket_received(*, ticket: Ticket, message: Message) -> Notification | None:
    """Regulation 2: the number and the deadline, at once."""
    item = ticket_received_item(ticket=ticket, message=message)
    return notification_enqueue(**item) if item else None


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
        extra={**extra, **_feedback_links(ticket)},
    )


def ticket_redirected(
    *, ticket: Ticket, message: Message, where: str, what: str
) -> Notification | None:
    """Seed 002 §3.8: outside our competence, the citizen is told where to turn and
    what to do there (the queue may word this mail itself)."""
    return _send_to_requester(
        ticket=ticket,
        template="redirected",
        kind=Notification.Kind.PERSONAL,
        key=f"ticket:{ticket.pk}:redirected:{ticket.reopened_count}",
        extra={"where": where, "what": what, "operator": _operator_name(message)},
    )


def ticket_reopened(*, ticket: Ticket) -> Notification | None:
    return _send_to_requester(
        ticket=ticket,
        template="reopened",
        kind=Notification.Kind.NOTICE,
        key=f"ticket:{ticket.pk}:reopened:{ticket.reopened_count}",
    )


# --- Staff ------------------------------------------------------------------------


def _active_with_email():
    return get_user_model().objects.filter(is_active=True).exclude(email="")


def ticket_staff_recipients(ticket: Ticket) -> list:
    """Who works the ticket: the assignee, else its department, else the queue's
    operators, else every active staff member (nobody is left unwarned)."""
    users = _active_with_email()
    if ticket.assignee_id:
        found = list(users.filter(pk=ticket.assignee_id))
        if found:
            return found
    for group_id in (ticket.assigned_group_id, ticket.queue.operators_group_id):
        if group_id:
            found = list(users.filter(groups=group_id).order_by("pk"))
            if found:
                return found
    return list(users.filter(is_staff=True).order_by("pk"))


def supervisors() -> list:
    """Users with the `tickets.supervise` permission (directly or by group), superusers."""
    perm = Permission.objects.filter(
        content_type__app_label="tickets", codename="supervise"
    ).first()
    condition = Q(is_superuser=True)
    if perm is not None:
        condition |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    return list(_active_with_email().filter(condition).distinct().order_by("pk"))


def _staff_context(ticket: Ticket, language: str) -> dict:
    return {
        "number": ticket.reference,
        "subject": ticket.subject,
        "queue": ticket.queue.name,
        "name": ticket.requester.full_name,
        "due": citizen_datetime_in(
            ticket.first_response_due, queue=ticket.queue, language=language
        ),
        "created": citizen_datetime_in(ticket.created_at, queue=ticket.queue, language=language),
        "assignee": (ticket.assignee.get_full_name() or ticket.assignee.get_username())
        if ticket.assignee_id
        else "",
        "admin_url": f"{settings.SITE_URL}{ticket.get_absolute_url()}",
    }


def _staff_items(
    *,
    ticket: Ticket,
    users: Iterable,
    template: str,
    key: str,
    extra: dict | None = None,
    own: Iterable[str] = (),
) -> list[dict]:
    language = settings.LANGUAGE_CODE
    context = {**_staff_context(ticket, language), **(extra or {})}
    return [
        {
            "recipient": user.email,
            "template": template,
            "kind": Notification.Kind.ALERT,
            "idempotency_key": f"{key}:u{user.pk}",
            "context": context,
            "language": language,
            "reference": ticket.reference,
            "own": own,
        }
        for user in users
    ]


def _send_to_staff(**kwargs) -> list[Notification]:
    return [notification_enqueue(**item) for item in _staff_items(**kwargs)]


def sla_reminder_items(
    *, ticket: Ticket, due: datetime, users: Iterable, own: Iterable[str] = ()
) -> list[dict]:
    """Regulation 3: the first answer is due soon. Key `sla:remind:<ticket>:<due iso>`.

    Outbox items for `notifications.services.notification_enqueue_many`.
    """
    return _staff_items(
        ticket=ticket,
        users=users,
        template="sla_reminder",
        key=f"sla:remind:{ticket.pk}:{due.isoformat()}",
        own=own,
    )


def sla_breach_items(
    *, ticket: Ticket, due: datetime, users: Iterable, own: Iterable[str] = ()
) -> list[dict]:
    """Regulation 3: the deadline passed unanswered; supervisors are alerted."""
    return _staff_items(
        ticket=ticket,
        users=users,
        template="sla_breach",
        key=f"sla:breach:{ticket.pk}:{due.isoformat()}",
        own=own,
    )


def _resolution_due_text(ticket: Ticket) -> dict:
    due = citizen_datetime_in(
        ticket.resolution_due, queue=ticket.queue, language=settings.LANGUAGE_CODE
    )
    return {"due": due}


def resolution_reminder_items(
    *, ticket: Ticket, due: datetime, users: Iterable, own: Iterable[str] = ()
) -> list[dict]:
    """The optional resolution target (regulation 3) is near: whoever works the ticket
    hears of it once. Key `sla:resolution-remind:<ticket>:<moment iso>`."""
    return _staff_items(
        ticket=ticket,
        users=users,
        template="resolution_reminder",
        key=f"sla:resolution-remind:{ticket.pk}:{due.isoformat()}",
        extra=_resolution_due_text(ticket),
        own=own,
    )


def resolution_breach_items(
    *, ticket: Ticket, due: datetime, users: Iterable, own: Iterable[str] = ()
) -> list[dict]:
    """The resolution target passed with the ticket still open: supervisors, once."""
    return _staff_items(
        ticket=ticket,
        users=users,
        template="resolution_breach",
        key=f"sla:resolution-breach:{ticket.pk}:{due.isoformat()}",
        extra=_resolution_due_text(ticket),
        own=own,
    )


def _department_text(ticket: Ticket) -> dict:
    due = citizen_datetime_in(
        ticket.department_due, queue=ticket.queue, language=settings.LANGUAGE_CODE
    )
    return {"due": due, "department": ticket.assigned_group.name if ticket.assigned_group else ""}


def _deadline_alert(template: str, key: str, extra: Callable[[Ticket], dict]):
    """The outbox items of a one-shot deadline alert (`tickets.sla_sweep.Alert.items`):
    key `sla:<key>:<ticket>:<moment iso>`, so one moment never mails twice."""

    def items(*, ticket: Ticket, due: datetime, users: Iterable, own: Iterable[str] = ()):
        return _staff_items(
            ticket=ticket,
            users=users,
            template=template,
            key=f"sla:{key}:{ticket.pk}:{due.isoformat()}",
            extra=extra(ticket),
            own=own,
        )

    return items


# The department's mandatory deadline (seed 003): the reminder to whoever works the
# escalated ticket (its assignee, else the department), the breach to supervisors.
department_reminder_items = _deadline_alert(
    "department_reminder", "department-remind", _department_text
)
department_breach_items = _deadline_alert(
    "department_breach", "department-breach", _department_text
)


def satisfaction_negative(*, ticket: Ticket, response: SatisfactionResponse) -> list[Notification]:
    """The citizen says the problem is not solved: the assignee hears of it at once."""
    return _send_to_staff(
        ticket=ticket,
        users=ticket_staff_recipients(ticket),
        template="csat_no_alert",
        key=f"csat:no:{response.pk}",
        extra={"rating": response.rating, "comment": response.comment},
        own=queue_addresses(),
    )


def _operator_name(message: Message | None) -> str:
    if message is None or message.author is None:
        return ""
    return message.author.get_full_name() or message.author.get_username()


def ticket_status_link(*, ticket: Ticket, reissued: bool = False) -> Notification | None:
    """The private status link, mailed to the e-mail on file: the only way it reaches
    someone who knows just the number and an e-mail or phone (status look-up), and how
    a link re-issued by staff reaches the citizen. None when there is no e-mail.

    At most one mail per ticket and link per hour from look-ups: the key names the hour.
    """
    link = hashlib.sha256(ticket.token.encode()).hexdigest()[:16]
    if reissued:
        key = f"ticket:{ticket.pk}:status_link:{link}:reissued"
    else:
        key = f"ticket:{ticket.pk}:status_link:{link}:{int(time.time() // 3600)}"
    return _send_to_requester(
        ticket=ticket,
        template="status_link",
        kind=Notification.Kind.NOTICE,
        key=key,
        extra={"reissued": reissued},
    )


def callback_failed(*, callback) -> Notification | None:
    """Regulation 12: we could not reach the citizen at the number they gave (no answer
    after the last attempt, or a wrong number). Once per call-back entry."""
    return _send_to_requester(
        ticket=callback.ticket,
        template="callback_failed",
        kind=Notification.Kind.NOTICE,
        key=f"callback:{callback.pk}:failed",
        extra={"attempts": callback.attempts, "wrong_number": callback.outcome == "wrong_number"},
    )
