"""Phone calls (regulation 002 §1): a call continues the caller's ticket or opens a new one.

The operator reads the number out at once; "solved during the call" is first-contact
resolution; handing a phone appeal to line 2 needs an e-mail for the later answer, and
a call left open needs a channel back (an e-mail or a call-back request, seed 002 §1.12).
"""

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from tickets.models import CallbackRequest, Queue, Ticket, TicketEvent
from tickets.services.contacts import contact_get_or_create
from tickets.services.creation import ticket_create
from tickets.services.history import event_record
from tickets.services.links import ticket_continue_in_new
from tickets.services.messages import message_add_from_requester
from tickets.services.tickets import ticket_escalate, ticket_lock, ticket_set_status


@transaction.atomic
def call_register(
    *,
    operator,
    text: str,
    ticket: Ticket | None = None,
    queue: Queue | None = None,
    kind: str = Ticket.Kind.QUESTION,
    subject: str = "",
    full_name: str = "",
    phone: str = "",
    email: str = "",
    inn: str = "",
    solved: bool = False,
    escalate: bool = False,
    group: Group | None = None,
    callback: bool = False,
) -> Ticket:
    """Record a call and return the ticket whose number the operator reads out.

    With `ticket`: the call note continues it (a closed ticket continues in a new,
    linked one, regulation 3.11). Without: a new phone ticket for the caller.
    `callback`: the caller is to be called back with the answer (the call-back list,
    at the number they gave). A call not solved on the spot needs an e-mail or that
    call-back (`phone_channel_back_require`).
    All or nothing: a refused escalation (no e-mail) or a ticket left open with no way
    to answer saves nothing.
    """
    if solved and escalate:
        raise ValidationError(
            _("A call solved on the spot is not handed to the second line."), code="solved_escalate"
        )
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write down what the caller said.")}, code="required")
    if ticket is not None:
        if ticket.status == Ticket.Status.CLOSED:
            ticket = ticket_continue_in_new(
                ticket=ticket, text=text, channel=Ticket.Channel.PHONE, actor=operator
            )
        else:
            message_add_from_requester(
                ticket=ticket, text=text, channel=Ticket.Channel.PHONE, actor=operator
            )
    else:
        if queue is None:
            raise ValidationError({"queue": _("Choose the service.")}, code="required")
        if not (full_name or "").strip():
            raise ValidationError({"full_name": _("Enter the caller's name.")}, code="required")
        requester = contact_get_or_create(full_name=full_name, email=email, phone=phone, inn=inn)
        ticket = ticket_create(
            queue=queue,
            requester=requester,
            channel=Ticket.Channel.PHONE,
            subject=subject or text.splitlines()[0][:120],
            text=text,
            kind=kind,
            actor=operator,
        )
    if callback:
        # Imported here: the call-back service resolves tickets through this module.
        from tickets.services.callbacks import CallbackWish, callback_request

        callback_request(
            ticket=ticket,
            wish=CallbackWish(phone=phone or ticket.requester.phone),
            source=CallbackRequest.Source.OPERATOR,
            actor=operator,
        )
    if solved:
        ticket = ticket_mark_first_contact_resolution(ticket=ticket, actor=operator)
    elif not escalate:
        # Escalation checks the e-mail itself (regulation 6: the later answer is mailed).
        phone_channel_back_require(
            email=email or ticket.requester.email,
            callback=ticket.callbacks.filter(closed_at__isnull=True).exists(),
        )
    if escalate:
        # What the caller said is the note for the second line (seed 002 §3.7).
        ticket = ticket_escalate(
            ticket=ticket, actor=operator, group=group, requester_email=email, note=text
        )
    return ticket


def phone_channel_back_require(*, email: str, callback: bool) -> None:
    """Seed 002 §1.12: an appeal taken by phone and not solved during the call is
    answered later, so it is saved as open only with a channel back to the citizen: an
    e-mail for the answer, or a request to call them back. Raises on the `email` field.
    """
    if (email or "").strip() or callback:
        return
    raise ValidationError(
        {
            "email": _(
                "The answer will come later: enter the caller's e-mail or put them on the "
                "call-back list, otherwise the answer cannot reach them."
            )
        },
        code="channel_back_required",
    )


@transaction.atomic
def ticket_mark_first_contact_resolution(*, ticket: Ticket, actor=None) -> Ticket:
    """Solved during the call: first-contact resolution, and the ticket is resolved."""
    ticket = ticket_lock(ticket)
    if not ticket.first_contact_resolution:
        ticket.first_contact_resolution = True
        ticket.save(update_fields=["first_contact_resolution", "updated_at"])
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.FIELD,
            actor=actor,
            field="first_contact_resolution",
            old_value="False",
            new_value="True",
            note=_("solved during the call"),
        )
    if ticket.status != Ticket.Status.RESOLVED:
        ticket = ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=actor)
    return ticket
