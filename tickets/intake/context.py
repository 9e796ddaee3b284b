"""What the messages of one intake transaction share, and the writes they put off.

A batch of 50 asks once for the active queues, our own addresses and the senders'
contacts. In a batch (`deferred`), a message that simply opens a new ticket does not
write it at once: its contact, ticket, first message, history entry and auto-reply
wait in the context and `flush` writes all of them with one INSERT per table
(`tickets_create_many`). Whatever might read or write around them flushes first, so
the outcome is the one writing each message at once would give.
"""

from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile

from notifications.services import own_addresses as notifications_own_addresses
from tickets.intake.parse import ParsedAttachment
from tickets.models import Attachment, Contact, InboundEmail, Message, Queue, Ticket
from tickets.services import (
    TicketDraft,
    attachment_build,
    contact_get_or_create,
    tickets_create_many,
)


def queues_active() -> dict[str, Queue]:
    """Active queues by their lower-cased inbound address ("" for the ones without)."""
    queues = {}
    for queue in Queue.objects.filter(is_active=True).order_by("position", "name", "id"):
        queues.setdefault((queue.email_address or "").lower(), queue)
    return queues


def own_addresses(queues: dict[str, Queue]) -> set[str]:
    """The queues' inbound addresses and the ones the outbox treats as ours."""
    return {address for address in queues if address} | notifications_own_addresses()


# Whose attachments wait for `attachments_flush`: a ticket created at once (its first
# message is looked up then), or a draft (its message is known once it is flushed).
_Owner = Ticket | TicketDraft


@dataclass
class IntakeContext:
    """Discard it with the transaction: the contacts it holds may have been created there.

    `deferred`: new tickets wait for `flush` (see the module docstring), and attachments
    of new tickets for `attachments_flush`, at the end of the batch.
    """

    queues: dict[str, Queue]
    own: set[str]
    contacts: dict[str, Contact] = field(default_factory=dict)
    deferred: bool = False
    pending: list[tuple[_Owner, InboundEmail, list[ParsedAttachment]]] = field(default_factory=list)
    drafts: list[TicketDraft] = field(default_factory=list)
    contacts_new: list[Contact] = field(default_factory=list)
    draft_message_ids: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, *, senders: list[str] = (), deferred: bool = False):
        queues = queues_active()
        context = cls(queues=queues, own=own_addresses(queues), deferred=deferred)
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
        """`contact_get_or_create`, without asking again for a sender already known.

        Deferred, a new sender's contact is written by the next `flush` (the caller has
        loaded every sender of the batch, holding their locks: it is not in the table).
        """
        contact = self.contacts.get(email)
        if contact is None and self.deferred:
            contact = Contact(full_name=name.strip(), email=email.strip().lower())
            self.contacts_new.append(contact)
        elif contact is None or (name and not contact.full_name):
            self.flush()  # the contact may be one of contacts_new
            contact = contact_get_or_create(full_name=name, email=email)
        self.contacts[email] = contact
        return contact

    def ticket_defer(self, draft: TicketDraft, attachments: list[ParsedAttachment]) -> TicketDraft:
        """Create this ticket at the next `flush` (only when `deferred`)."""
        self.drafts.append(draft)
        if draft.email_message_id:
            self.draft_message_ids.add(draft.email_message_id)
        if attachments:
            self.pending.append((draft, draft.inbound_email, attachments))
        return draft

    def refers_to_drafts(self, message_ids: list[str]) -> bool:
        """Does a message thread onto a ticket still waiting to be written?"""
        return bool(self.draft_message_ids) and not self.draft_message_ids.isdisjoint(message_ids)

    def flush(self) -> None:
        """Write the waiting contacts and tickets, in the order their messages came."""
        if self.contacts_new:
            Contact.objects.bulk_create(self.contacts_new)
            self.contacts_new = []
        if self.drafts:
            tickets_create_many(drafts=self.drafts)
            self.drafts = []
            self.draft_message_ids = set()

    def attachments_flush(self) -> None:
        """Store the deferred attachments of the tickets created in this batch (one
        INSERT for all of them)."""
        if not self.pending:
            return
        self.flush()
        first: dict[int, Message] = {}
        inbound_ids = [i.pk for owner, i, _parts in self.pending if isinstance(owner, Ticket)]
        if inbound_ids:
            for message in (
                Message.objects.filter(inbound_email_id__in=inbound_ids)
                .only("id", "ticket_id", "inbound_email_id")
                .order_by("-id")
            ):
                first[message.inbound_email_id] = message
        rows = []
        for owner, inbound, parts in self.pending:
            if isinstance(owner, TicketDraft):
                ticket, message = owner.ticket, owner.message
            else:
                ticket, message = owner, first.get(inbound.pk)
            rows += _attachments_build(ticket=ticket, message=message, parts=parts)
        Attachment.objects.bulk_create(rows)
        self.pending.clear()


def _attachments_build(*, ticket: Ticket, message: Message | None, parts) -> list[Attachment]:
    return [
        attachment_build(
            ticket=ticket,
            message=message,
            file=SimpleUploadedFile(part.filename, part.data, part.content_type),
            inline=part.inline,
            content_id=part.content_id or "",
        )
        for part in parts
    ]


def attachments_store(*, ticket: Ticket, message: Message | None, parts) -> None:
    """The parts of a message as attachments on its ticket, whatever their type (the
    form's type and size rules are for uploads; the parser has its own limits)."""
    Attachment.objects.bulk_create(_attachments_build(ticket=ticket, message=message, parts=parts))
