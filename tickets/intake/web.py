"""The public web form: an appeal, or a follow-up on a known one (regulation 3.11)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from tickets import notify
from tickets.models import CallbackRequest, Queue, Ticket, TicketLink
from tickets.selectors import requester_matches, ticket_find_for_requester
from tickets.services import (
    CallbackWish,
    TicketClosedError,
    callback_request,
    contact_get_or_create,
    message_add_from_requester,
    ticket_continue_in_new,
    ticket_create,
    ticket_link,
    ticket_resolve_merged,
)
from tickets.services.calls import phone_channel_back_require


@dataclass(frozen=True)
class AppealResult:
    ticket: Ticket
    # True when the text was added to an existing ticket rather than opening a new one.
    continued: bool


@transaction.atomic
def appeal_submit(
    *,
    full_name: str,
    email: str,
    phone: str,
    queue: Queue,
    kind: str,
    subject: str,
    text: str,
    number: int | None = None,
    inn: str = "",
    attachments: Iterable[UploadedFile] = (),
    language: str = "ru",
    callback: CallbackWish | None = None,
    channel: str = Ticket.Channel.WEB,
    callback_source: str = CallbackRequest.Source.WEB,
) -> AppealResult:
    """Register what the citizen sent through the form, all in one transaction, and put
    the appeal on the call-back list when they ticked «Перезвоните мне» (`callback`).

    `channel`: the web form's appeals are `web`; the API files them on behalf of the
    channel they came through, with the same rules (`callback_source`: `operator` then).

    With an existing `number` whose requester has this e-mail or phone, the text goes on
    that ticket. When that ticket is closed, a new ticket continues it; when the e-mail
    and phone do not match, a new ticket is only linked as related for staff. Either
    way the citizen learns nothing about a ticket that is not theirs.
    """
    if channel == Ticket.Channel.PHONE:
        # An integration filing a phone call: the same rule as the phone screen.
        phone_channel_back_require(email=email, callback=callback is not None)
    attachments = list(attachments)
    contact = contact_get_or_create(full_name=full_name, email=email, phone=phone, inn=inn)
    existing = (
        Ticket.objects.select_related("requester", "queue").filter(number=number).first()
        if number
        else None
    )
    if existing is not None:
        existing = ticket_resolve_merged(existing)
        if requester_matches(existing, email=email, phone=phone):
            try:
                message_add_from_requester(
                    ticket=existing, text=text, channel=channel, attachments=attachments
                )
                return _with_callback(
                    AppealResult(ticket=existing, continued=True), callback, callback_source
                )
            except TicketClosedError:
                new = ticket_continue_in_new(
                    ticket=existing,
                    text=text,
                    channel=channel,
                    subject=subject,
                    requester=contact,
                    queue=queue,
                    kind=kind,
                    language=language,
                    attachments=attachments,
                )
                return _with_callback(
                    AppealResult(ticket=new, continued=False), callback, callback_source
                )
    ticket = ticket_create(
        queue=queue,
        requester=contact,
        channel=channel,
        subject=subject,
        text=text,
        kind=kind,
        language=language,
        attachments=attachments,
    )
    if existing is not None:
        # Someone quoted a number that is not theirs (or from another address):
        # staff may want to see both, the citizen sees nothing of the other.
        ticket_link(source=ticket, target=existing, kind=TicketLink.Kind.RELATED)
    return _with_callback(AppealResult(ticket=ticket, continued=False), callback, callback_source)


def _with_callback(
    result: AppealResult, callback: CallbackWish | None, source: str
) -> AppealResult:
    if callback is not None:
        callback_request(ticket=result.ticket, wish=callback, source=source)
    return result


@dataclass(frozen=True)
class StatusLookup:
    ticket: Ticket
    # True when the private link was mailed to the e-mail on file (False: no e-mail).
    link_mailed: bool


@transaction.atomic
def status_lookup_submit(*, number: str, contact: str) -> StatusLookup | None:
    """Number + e-mail or phone: the ticket's status for the page, and its private link
    mailed to the requester's e-mail on file (at most hourly). None when they do not
    match. Whoever asked sees the state and the deadline, never the link itself."""
    ticket = ticket_find_for_requester(number, contact)
    if ticket is None:
        return None
    if not ticket.requester.email:
        return StatusLookup(ticket=ticket, link_mailed=False)
    notify.ticket_status_link(ticket=ticket)
    return StatusLookup(ticket=ticket, link_mailed=True)


@transaction.atomic
def appeal_reply(
    *, ticket: Ticket, text: str, attachments: Iterable[UploadedFile] = ()
) -> AppealResult:
    """A reply from the status page. A closed ticket is continued in a new one (3.11)."""
    attachments = list(attachments)
    try:
        message_add_from_requester(
            ticket=ticket, text=text, channel=Ticket.Channel.WEB, attachments=attachments
        )
        return AppealResult(ticket=ticket, continued=True)
    except TicketClosedError:
        new = ticket_continue_in_new(
            ticket=ticket, text=text, channel=Ticket.Channel.WEB, attachments=attachments
        )
        return AppealResult(ticket=new, continued=False)


@transaction.atomic
def appeal_callback_request(*, ticket: Ticket, wish: CallbackWish) -> CallbackRequest:
    """«Перезвоните мне» from the status page. Not on a closed appeal: a call about it
    is a new question, filed as a new appeal."""
    if ticket.status == Ticket.Status.CLOSED:
        raise ValidationError(_("This appeal is closed: file a new appeal to be called back."))
    return callback_request(ticket=ticket, wish=wish, source=CallbackRequest.Source.STATUS)
