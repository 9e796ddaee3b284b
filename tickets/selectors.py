"""Reads for the citizen-facing pages (nothing here lets a requester see another's data),
and the few small reads every staff page shares."""

import secrets

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from tickets.models import Attachment, CallbackRequest, Mailbox, Message, Queue, Ticket
from tickets.numbering import parse_ticket_number
from tickets.validators import normalize_phone

# Compared against when the number is unknown, so a miss costs the same as a wrong token.
_DUMMY_TOKEN = secrets.token_urlsafe(24)


def staff_users() -> QuerySet:
    """Active staff who may hold a ticket or a token, by user name."""
    return get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


def mailboxes_failing() -> QuerySet[Mailbox]:
    """Active mailboxes whose last poll failed (server down, password refused, ...): mail
    to their queues is not arriving. A successful poll clears the error."""
    return (
        Mailbox.objects.filter(is_active=True)
        .exclude(last_error="")
        .select_related("queue")
        .order_by("queue__name", "pk")
    )


def queues_for_appeal() -> QuerySet[Queue]:
    """Services a citizen may file an appeal with, in display order."""
    return Queue.objects.filter(is_active=True).order_by("position", "name")


def access_ticket_for_requester(number: str | int | None, token: str | None) -> Ticket | None:
    """The ticket behind a private status link, or None.

    Sequential numbers alone never open a ticket: the secret token must match, compared
    in constant time. Unknown number, missing or wrong token all give the same None.
    """
    parsed = number if isinstance(number, int) else parse_ticket_number(number)
    token = token or ""
    ticket = (
        Ticket.objects.select_related("queue", "requester").filter(number=parsed).first()
        if parsed
        else None
    )
    expected = ticket.token if ticket is not None else _DUMMY_TOKEN
    if not secrets.compare_digest(expected.encode(), token.encode()) or ticket is None:
        return None
    return ticket


def ticket_find_for_requester(number: str | None, email_or_phone: str | None) -> Ticket | None:
    """The ticket with this number whose requester has this e-mail or phone, or None."""
    parsed = parse_ticket_number(number)
    value = (email_or_phone or "").strip()
    if not parsed or not value:
        return None
    ticket = Ticket.objects.select_related("requester").filter(number=parsed).first()
    if ticket is None or not requester_matches(ticket, email=value, phone=value):
        return None
    return ticket


def requester_matches(ticket: Ticket, *, email: str = "", phone: str = "") -> bool:
    """Does the given e-mail or phone belong to the ticket's requester?"""
    requester = ticket.requester
    email = (email or "").strip().lower()
    if email and "@" in email and requester.email and requester.email.lower() == email:
        return True
    if phone and "@" not in phone:
        normalized = normalize_phone(phone)
        if len(normalized) > 8 and requester.phone and requester.phone == normalized:
            return True
    return False


def ticket_public_messages(ticket: Ticket) -> QuerySet[Message]:
    """The conversation as the citizen sees it: no internal notes, no inline parts."""
    return (
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(is_inline=False).order_by("id"),
                to_attr="public_attachments",
            )
        )
        .order_by("created_at", "id")
    )


def attachment_for_requester(ticket: Ticket, attachment_id: int) -> Attachment | None:
    """An attachment of a public message of this ticket, or None."""
    return (
        Attachment.objects.filter(
            pk=attachment_id, ticket=ticket, message__isnull=False, message__is_internal=False
        )
        .select_related("message")
        .first()
    )


def ticket_open_callback(ticket: Ticket) -> CallbackRequest | None:
    """The ticket's call-back still to be made, for «Мы перезвоним вам …»."""
    return ticket.callbacks.filter(closed_at__isnull=True).order_by("id").first()
