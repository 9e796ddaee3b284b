"""Where a parsed message goes: a new ticket, a reply on a known one, a note for a bounce.

`route` runs inside the caller's transaction, after the duplicate check. What several
messages of one batch share (the active queues, our own addresses, the senders'
contacts, attachments waiting for their message) lives in an `IntakeContext`, so a
batch of 50 asks for each of them once instead of 50 times.
"""

import re
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext as _

from notifications.automail import auto_generated_reason
from notifications.services import own_addresses as notifications_own_addresses
from tickets.intake.parse import ParsedAttachment, ParsedEmail, message_ids
from tickets.intake.threading import NO_MATCH, report_thread_find, thread_find
from tickets.models import (
    Attachment,
    Contact,
    InboundEmail,
    Mailbox,
    Message,
    Queue,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.services import (
    attachments_add,
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


def queues_active() -> dict[str, Queue]:
    """Active queues by their lower-cased inbound address ("" for the ones without)."""
    queues = {}
    for queue in Queue.objects.filter(is_active=True).order_by("position", "name", "id"):
        queues.setdefault((queue.email_address or "").lower(), queue)
    return queues


def own_addresses(queues: dict[str, Queue]) -> set[str]:
    """The queues' inbound addresses and the ones the outbox treats as ours."""
    return {address for address in queues if address} | notifications_own_addresses()


@dataclass
class IntakeContext:
    """What the messages of one processing transaction share. Discard it with the
    transaction: the contacts it holds may have been created there.

    `defer_attachments`: the attachments of new tickets are stored by
    `attachments_flush` at the end of the batch, with one query for all their messages.
    """

    queues: dict[str, Queue]
    own: set[str]
    contacts: dict[str, Contact] = field(default_factory=dict)
    defer_attachments: bool = False
    pending: list[tuple[Ticket, InboundEmail, list[ParsedAttachment]]] = field(default_factory=list)

    @classmethod
    def load(cls, *, senders: list[str] = (), defer_attachments: bool = False):
        queues = queues_active()
        context = cls(queues=queues, own=own_addresses(queues), defer_attachments=defer_attachments)
        context.contacts_load(senders)
        return context

    def contacts_load(self, emails) -> None:
        """Load the contacts of these addresses (one query)."""
        emails = sorted({e for e in emails if e})
        if emails:
            # contact_find's rule: the oldest contact with the address.
            for contact in Contact.objects.filter(email__in=emails).order_by("-id"):
                self.contacts[contact.email] = contact

    def contact_for(self, *, name: str, email: str) -> Contact:
        """`contact_get_or_create`, without asking again for a sender already known."""
        contact = self.contacts.get(email)
        if contact is None or (name and not contact.full_name):
            contact = contact_get_or_create(full_name=name, email=email)
            self.contacts[email] = contact
        return contact

    def attachments_flush(self) -> None:
        """Store the deferred attachments of the tickets created in this batch."""
        if not self.pending:
            return
        first: dict[int, Message] = {}
        inbound_ids = [inbound.pk for _ticket, inbound, _parts in self.pending]
        for message in (
            Message.objects.filter(inbound_email_id__in=inbound_ids)
            .only("id", "ticket_id", "inbound_email_id")
            .order_by("-id")
        ):
            first[message.inbound_email_id] = message
        for ticket, inbound, parts in self.pending:
            _attachments_store(ticket=ticket, message=first.get(inbound.pk), parts=parts)
        self.pending.clear()


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


def _attachments_store(*, ticket: Ticket, message: Message | None, parts) -> None:
    regular = [a for a in parts if not a.inline]
    inline = [a for a in parts if a.inline]
    if regular:
        attachments_add(
            ticket=ticket,
            message=message,
            files=[SimpleUploadedFile(a.filename, a.data, a.content_type) for a in regular],
            validate=False,
        )
    if inline:
        created = attachments_add(
            ticket=ticket,
            message=message,
            files=[SimpleUploadedFile(a.filename, a.data, a.content_type) for a in inline],
            validate=False,
            inline=True,
        )
        with_ids = []
        for attachment, part in zip(created, inline, strict=True):
            if part.content_id:
                attachment.content_id = part.content_id[:255]
                with_ids.append(attachment)
        if len(with_ids) == 1:
            with_ids[0].save(update_fields=["content_id"])
        elif with_ids:
            Attachment.objects.bulk_update(with_ids, ["content_id"])


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
        if context.defer_attachments:
            context.pending.append((ticket, inbound, parsed.attachments))
            return
        message = Message.objects.filter(ticket=ticket).order_by("id").first()
    _attachments_store(ticket=ticket, message=message, parts=parsed.attachments)


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
    """Message-IDs the bounce refers to: from its parts, and ours quoted in its text."""
    domain = "@" + settings.EMAIL_MESSAGE_ID_DOMAIN.lower() + ">"
    quoted = [m for m in message_ids(parsed.full_text) if m.lower().endswith(domain)]
    ids = [m for m in parsed.report_message_ids if m != parsed.message_id]
    return list(dict.fromkeys([*ids, *quoted]))[:30]


def route(
    *,
    inbound: InboundEmail,
    parsed: ParsedEmail,
    context: IntakeContext,
    queue: Queue | None = None,
    force_new: bool = False,
    actor=None,
) -> Ticket:
    """Put a message that is not a duplicate where it belongs; the ticket it landed on.

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
            ticket = report_thread_find(
                message_ids=_report_ids(parsed),
                subject=f"{parsed.report_subject} {parsed.subject}",
            )
            if ticket is None:
                raise QuarantineError(_("A delivery failure report for a message we cannot find."))
            _system_message(
                ticket=ticket,
                inbound=inbound,
                parsed=parsed,
                title=_("Delivery failure report from %(sender)s: %(subject)s")
                % {"sender": sender, "subject": parsed.subject},
                context=context,
            )
            return ticket

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

    ticket = ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.EMAIL,
        subject=parsed.subject,
        text=text,
        auto_reply=not is_auto,
        actor=actor if force_new else None,
        **content,
    )
    _attach(ticket=ticket, message=None, **attach)
    if match.ticket is not None:
        # A stranger quoting someone else's number: related, never access.
        ticket_link(source=ticket, target=match.ticket, kind=TicketLink.Kind.RELATED)
    return ticket
