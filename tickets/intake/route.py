"""Where a parsed message goes: a new ticket, a reply on a known one, a note for a bounce.

`route` runs inside the caller's transaction, after the duplicate check, with the
`IntakeContext` the messages of the batch share (tickets/intake/context.py).
"""

import re
from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from notifications.automail import auto_generated_reason
from notifications.models import Notification
from notifications.services import notification_bounce_record, notification_for_report
from tickets.intake.context import IntakeContext, attachments_store
from tickets.intake.decoding import message_ids
from tickets.intake.parse import ParsedEmail
from tickets.intake.threading import NO_MATCH, report_ticket_find, thread_find
from tickets.models import (
    InboundEmail,
    Mailbox,
    Message,
    Queue,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.services import (
    TicketDraft,
    contact_get_or_create,
    event_record,
    message_add_from_requester,
    ticket_continue_in_new,
    ticket_create,
    ticket_link,
)

_REPORT_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.I)


class QuarantineError(Exception):
    """An expected reason not to turn a message into a ticket by itself."""


def queue_for(
    *, parsed: ParsedEmail, recipient: str, mailbox: Mailbox | None, queues: dict[str, Queue]
) -> Queue | None:
    """The receiving address decides; then the mailbox's queue; then the first queue."""
    envelope = [parseaddr(recipient)[1].lower()] if recipient else []
    for address in [*envelope, *parsed.delivered_to]:
        if address in queues and address:
            return queues[address]
    if mailbox is not None:
        return mailbox.queue
    for address in parsed.recipients:
        if address in queues and address:
            return queues[address]
    return next(iter(queues.values()), None)


def _attach(
    *,
    ticket: Ticket,
    message: Message | None,
    parsed: ParsedEmail,
    inbound: InboundEmail,
    context: IntakeContext,
) -> None:
    """`message` None: the first message of a ticket just created (found later, in one
    query for the whole batch, when the context defers attachments)."""
    if not parsed.attachments:
        return
    if message is None:
        if context.deferred:
            context.pending.append((ticket, inbound, parsed.attachments))
            return
        message = Message.objects.filter(ticket=ticket).order_by("id").first()
    attachments_store(ticket=ticket, message=message, parts=parsed.attachments)


def _system_message(
    *,
    ticket: Ticket,
    inbound: InboundEmail,
    parsed: ParsedEmail,
    title: str,
    context: IntakeContext,
) -> Message:
    """An internal note from the system: bounces, auto-replies to closed tickets."""
    text = f"{title}\n\n{parsed.text}".strip()
    message = Message.objects.create(
        ticket=ticket,
        author_kind=Message.Author.SYSTEM,
        is_internal=True,
        channel=Ticket.Channel.EMAIL,
        text=text,
        full_text=parsed.full_text,
        email_message_id=parsed.message_id,
        inbound_email=inbound,
    )
    _attach(ticket=ticket, message=message, parsed=parsed, inbound=inbound, context=context)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.NOTE,
        actor_label=parsed.from_email or "system",
        note=title,
    )
    return message


def _is_report(parsed: ParsedEmail) -> bool:
    return parsed.is_report or bool(_REPORT_SENDER.match(parsed.from_email or ""))


def _report_ids(parsed: ParsedEmail) -> list[str]:
    """Message-IDs the bounce refers to, the likeliest first: the returned message's
    (its own Message-ID, then In-Reply-To/References; X-Original-Message-ID of the
    report), the report's own In-Reply-To/References, then ours quoted in its text."""
    domain = "@" + settings.EMAIL_MESSAGE_ID_DOMAIN.lower() + ">"
    quoted = [m for m in message_ids(parsed.full_text) if m.lower().endswith(domain)]
    ids = [*parsed.report_message_ids, *parsed.in_reply_to, *reversed(parsed.references)]
    ids = [m for m in ids if m != parsed.message_id]
    return list(dict.fromkeys([*ids, *quoted]))[:30]


def _permanent_failure(parsed: ParsedEmail) -> str:
    """The status (5.x.x) of the first recipient block that failed for good, or ""."""
    for action, status in parsed.report_statuses:
        if action == "failed" and status.startswith("5"):
            return status
    return ""


def _report_route(*, inbound: InboundEmail, parsed: ParsedEmail, context: IntakeContext) -> Ticket:
    """A delivery report (bounce) is acted on only when it quotes the Message-ID of a
    mail we sent: a note on that mail's ticket, and for a permanent failure that mail's
    recipient is held back (`notification_bounce_record`). Anything else is quarantined
    with the reason: anyone can make a message look like a bounce, and the address or
    ticket it names proves nothing (docs/security.md, "Forged bounces")."""
    context.flush()  # it may report on a ticket still waiting to be written
    notification = notification_for_report(message_ids=_report_ids(parsed))
    if notification is None:
        raise QuarantineError(
            _(
                "A delivery failure report that quotes none of our Message-IDs: not "
                "attached to any ticket and no address suppressed (anyone can send "
                "a message that looks like a bounce)."
            )
        )
    ticket = report_ticket_find(notification=notification)
    if ticket is None:
        raise QuarantineError(
            _("A delivery failure report for our message %(id)s, which is about no ticket.")
            % {"id": notification.message_id}
        )
    status = _permanent_failure(parsed)
    if status:
        notification_bounce_record(notification=notification, status=status)
    _system_message(
        ticket=ticket,
        inbound=inbound,
        parsed=parsed,
        title=_bounce_title(notification=notification, parsed=parsed, status=status),
        context=context,
    )
    return ticket


def _bounce_title(*, notification: Notification, parsed: ParsedEmail, status: str) -> str:
    values = {"recipient": notification.recipient, "status": status, "sender": parsed.from_email}
    if status:
        return (
            _(
                "Our message to %(recipient)s was not delivered (%(status)s, report from "
                "%(sender)s); automatic mail to this address is held back."
            )
            % values
        )
    return _("Delivery report for our message to %(recipient)s from %(sender)s.") % values


def route(
    *,
    inbound: InboundEmail,
    parsed: ParsedEmail,
    context: IntakeContext,
    queue: Queue | None = None,
    force_new: bool = False,
    actor=None,
) -> Ticket | TicketDraft:
    """Put a message that is not a duplicate where it belongs; the ticket it landed on,
    or, in a deferred context, the draft of the new ticket `context.flush` will write.

    Raises `QuarantineError` (before writing anything) for a message a person must
    look at. `force_new`: the operator's "turn into ticket" (no threading, no checks).
    """
    own = context.own
    sender = parsed.from_email
    auto_reason = (
        auto_generated_reason(parsed.headers, own_addresses=own)
        if parsed.headers is not None
        else None
    )
    if queue is None:
        queue = queue_for(
            parsed=parsed,
            recipient=inbound.recipient,
            mailbox=inbound.mailbox,
            queues=context.queues,
        )
    if queue is None:
        raise QuarantineError(_("There is no active queue to put the message in."))

    if not force_new:
        if not sender:
            raise QuarantineError(_("The message has no sender address."))
        if sender in own:
            raise QuarantineError(
                _("The message comes from our own address %(address)s (a mail loop?).")
                % {"address": sender}
            )
        if _is_report(parsed):
            return _report_route(inbound=inbound, parsed=parsed, context=context)

    if context.refers_to_drafts(parsed.thread_ids):
        context.flush()
    match = (
        NO_MATCH
        if force_new
        else thread_find(thread_ids=parsed.thread_ids, subject=parsed.subject, sender=sender)
    )
    if sender:
        contact = context.contact_for(name=parsed.from_name or sender, email=sender)
    else:
        contact = contact_get_or_create(full_name=_("Unknown sender"))
    is_auto = bool(auto_reason)
    text = parsed.text or _("(empty message)")
    content = {
        "html": parsed.html,
        "full_text": parsed.full_text,
        "email_message_id": parsed.message_id,
        "inbound_email": inbound,
    }
    new_ticket = {
        "queue": queue,
        "requester": contact,
        "channel": Ticket.Channel.EMAIL,
        "subject": parsed.subject,
        "text": text,
        "auto_reply": not is_auto,
        **content,
    }
    if match.ticket is None and context.deferred and not force_new:
        # The common case, a new appeal: written with the batch's others by `flush`.
        return context.ticket_defer(TicketDraft(**new_ticket), parsed.attachments)
    # Everything else writes at once; a new ticket is numbered after the waiting ones.
    attach = {"parsed": parsed, "inbound": inbound, "context": context}

    if match.ticket is not None and match.trusted:
        ticket = match.ticket
        if ticket.status == Ticket.Status.CLOSED:
            if is_auto:
                # An out-of-office to a closed ticket: keep it, change nothing.
                _system_message(
                    ticket=ticket,
                    inbound=inbound,
                    parsed=parsed,
                    title=_("Automatic reply (%(reason)s)") % {"reason": auto_reason},
                    context=context,
                )
            else:
                context.flush()
                ticket = ticket_continue_in_new(
                    ticket=ticket,
                    text=text,
                    channel=Ticket.Channel.EMAIL,
                    subject=parsed.subject,
                    requester=contact,
                    auto_reply=True,
                    **content,
                )
                _attach(ticket=ticket, message=None, **attach)
        else:
            message = message_add_from_requester(
                ticket=ticket,
                text=text,
                channel=Ticket.Channel.EMAIL,
                reopen=not is_auto,
                **content,
            )
            _attach(ticket=ticket, message=message, **attach)
        return ticket

    context.flush()
    ticket = ticket_create(**new_ticket, actor=actor if force_new else None)
    _attach(ticket=ticket, message=None, **attach)
    if match.ticket is not None:
        # A stranger quoting someone else's number: related, never access.
        ticket_link(source=ticket, target=match.ticket, kind=TicketLink.Kind.RELATED)
    return ticket
