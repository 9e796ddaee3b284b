"""The citizen's answer to "was your problem solved?" (regulation 4)."""

from django.db import transaction
from django.utils import timezone

from tickets import notify
from tickets.events import ticket_event_publish
from tickets.models import SatisfactionResponse, Ticket, TicketEvent
from tickets.services.history import event_record
from tickets.services.tickets import ticket_lock
from tickets.workflow import ticket_transition


def satisfaction_open_response(ticket: Ticket) -> SatisfactionResponse | None:
    """The answer already given for the ticket's current resolution, if any.

    One answer per resolution: after a reopen and a new resolution the citizen is asked
    again.
    """
    if ticket.resolved_at is None:
        return None
    return (
        SatisfactionResponse.objects.filter(ticket=ticket, created_at__gte=ticket.resolved_at)
        .order_by("-created_at")
        .first()
    )


def satisfaction_can_answer(ticket: Ticket) -> bool:
    return ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)


@transaction.atomic
def satisfaction_record(
    *, ticket: Ticket, solved: bool, rating: int | None = None, comment: str = ""
) -> tuple[SatisfactionResponse, bool]:
    """Record the answer; "not solved" reopens the ticket and alerts the assignee.

    Returns `(response, created)`. A second answer for the same resolution (a double
    click, a second tab) returns the first one unchanged. A closed ticket cannot be
    reopened (regulation 3.11): the answer is recorded and the assignee still alerted.
    Raises `ValueError` when the ticket is not resolved or closed.
    """
    ticket = ticket_lock(ticket)
    if not satisfaction_can_answer(ticket):
        raise ValueError("the ticket is not resolved")
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError("rating must be 1..5")
    existing = satisfaction_open_response(ticket)
    if existing is not None:
        return existing, False
    response = SatisfactionResponse.objects.create(
        ticket=ticket,
        solved=solved,
        rating=rating,
        comment=comment.strip(),
        created_at=timezone.now(),
    )
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.SATISFACTION,
        actor_label=ticket.requester.full_name or "requester",
        field="solved",
        new_value=f"{'yes' if solved else 'no'}" + (f", {rating}/5" if rating else ""),
        note=response.comment,
    )
    if not solved:
        if ticket.status == Ticket.Status.RESOLVED:
            ticket_transition(
                ticket=ticket,
                to=Ticket.Status.OPEN,
                actor_label="requester",
                note="The requester says the problem is not solved.",
            )
            notify.ticket_reopened(ticket=ticket)
            ticket_event_publish(ticket=ticket, event="ticket.status")
        notify.satisfaction_negative(ticket=ticket, response=response)
    return response, True
