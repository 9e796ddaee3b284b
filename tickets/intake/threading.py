"""Which ticket does a message belong to? (DESIGN §4 "E-mail in", regulation 3.11)

Order: (1) our own signed Message-IDs in In-Reply-To/References, then the ids of
operators' and requesters' messages on a ticket (a requester's only for a participant);
(2) the `[SP-0042]` subject tag, only from the requester or someone who already wrote on
that ticket; a stranger quoting a number gets a new ticket linked as related.

Never the Message-ID of a system message (a bounce, an out-of-office): anyone can send
us a "bounce" with a Message-ID of his choosing, and a reply "to" it would land on the
ticket as the requester's.
"""

from dataclasses import dataclass

from notifications.models import Notification
from notifications.services import message_id_verify
from tickets.models import InboundEmail, Message, Ticket
from tickets.numbering import parse_ticket_number, subject_ticket_numbers
from tickets.services import ticket_resolve_merged


@dataclass(frozen=True)
class ThreadMatch:
    ticket: Ticket | None
    # "message_id", "subject_tag", or "" for no match
    how: str = ""
    # False: the sender may not write on `ticket` (a stranger quoting its number);
    # the new ticket is linked to it as related instead.
    trusted: bool = True


NO_MATCH = ThreadMatch(ticket=None)
# Messages whose Message-ID a reply may thread by (see the module docstring).
_THREADED = (Message.Author.OPERATOR, Message.Author.REQUESTER)


def _reference_of_our_message_id(message_id: str) -> str | None:
    """The ticket reference ("SP-0042") of a Message-ID we sent, or None.

    Only ids we signed count (`message_id_verify`, an HMAC with SECRET_KEY): a forged
    `<sp-0042.xxx@our-domain>` naming someone else's ticket does not.
    """
    reference = message_id_verify(message_id)
    return reference or None


def _ticket_by_reference(reference: str) -> Ticket | None:
    return _ticket_by_number(parse_ticket_number(reference))


def _ticket_by_number(number: int | None) -> Ticket | None:
    if number is None:
        return None
    ticket = Ticket.objects.select_related("requester", "queue").filter(number=number).first()
    return ticket_resolve_merged(ticket) if ticket else None


def is_participant(*, ticket: Ticket, email: str) -> bool:
    """The requester, or someone whose mail was already accepted on this ticket."""
    email = (email or "").strip().lower()
    if not email:
        return False
    if (ticket.requester.email or "").lower() == email:
        return True
    return InboundEmail.objects.filter(
        ticket=ticket, sender=email, status=InboundEmail.Status.PROCESSED
    ).exists()


def thread_find(*, thread_ids: list[str], subject: str, sender: str) -> ThreadMatch:
    # (1) Message-IDs we sent, then ids of messages already on a ticket.
    for message_id in thread_ids:
        reference = _reference_of_our_message_id(message_id)
        if reference:
            ticket = _ticket_by_reference(reference)
            if ticket is not None:
                return ThreadMatch(ticket=ticket, how="message_id")
    if thread_ids:
        known = (
            Message.objects.filter(email_message_id__in=thread_ids, author_kind__in=_THREADED)
            .select_related("ticket__requester", "ticket__queue")
            .order_by("-created_at")
            .first()
        )
        if known is not None:
            ticket = ticket_resolve_merged(known.ticket)
            # A requester's own Message-ID is not secret (it was CC'd, quoted...):
            # the same participant rule as the subject tag.
            trusted = known.author_kind != Message.Author.REQUESTER or is_participant(
                ticket=ticket, email=sender
            )
            return ThreadMatch(ticket=ticket, how="message_id", trusted=trusted)
    # (2) [SP-0042] in the subject (or «СП-0042», however the requester spelt it).
    for number in subject_ticket_numbers(subject):
        ticket = _ticket_by_number(number)
        if ticket is not None:
            return ThreadMatch(
                ticket=ticket,
                how="subject_tag",
                trusted=is_participant(ticket=ticket, email=sender),
            )
    return NO_MATCH


def report_ticket_find(*, notification: Notification) -> Ticket | None:
    """The ticket a verified delivery report is about: the one the bounced mail of ours
    was about (its reference), never one the report names in its subject or text."""
    if not notification.reference:
        return None
    return _ticket_by_reference(notification.reference)
