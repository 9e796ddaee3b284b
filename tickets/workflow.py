"""Ticket statuses: the one table of allowed transitions and the one function applying it."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.models import Ticket, TicketEvent
from tickets.sla import department_arm, resolution_arm, sla_pause, sla_resume

S = Ticket.Status

# A closed ticket is final: a later message opens a new, linked ticket (regulation 3.11).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.RESOLVED, S.CLOSED}),
    S.OPEN: frozenset({S.PENDING, S.RESOLVED, S.CLOSED}),
    S.PENDING: frozenset({S.OPEN, S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}


class TransitionNotAllowed(ValidationError):
    pass


def transition_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def ticket_transition(
    *,
    ticket: Ticket,
    to: str,
    actor=None,
    actor_label: str = "",
    note: str = "",
    outcome: str = Ticket.Outcome.SOLVED,
) -> Ticket:
    """Move `ticket` to status `to`, keeping timestamps, SLA clock and history right.

    `outcome`: how a ticket being resolved (or closed unresolved) ended; a resolved
    ticket being closed keeps the outcome it has, a reopened one has none.

    Call inside a transaction, holding the ticket row lock (`select_for_update`).
    """
    current = ticket.status
    if not transition_allowed(current, to):
        raise TransitionNotAllowed(
            _("A ticket cannot go from “%(current)s” to “%(target)s”.")
            % {"current": S(current).label, "target": S(to).label},
            code="transition_not_allowed",
        )
    now = timezone.now()
    fields = ["status", "updated_at", "last_activity_at"]
    ticket.status = to
    ticket.last_activity_at = now
    if to == S.PENDING:
        fields += sla_pause(ticket, now)
    elif current == S.PENDING:
        fields += sla_resume(ticket, now)
    if to == S.RESOLVED:
        ticket.resolved_at = now
        ticket.outcome = outcome
        fields += ["resolved_at", "outcome"]
    if to == S.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
        if ticket.resolved_at is None:
            ticket.resolved_at = now
            ticket.outcome = outcome
            fields += ["resolved_at", "outcome"]
    if current in (S.RESOLVED, S.CLOSED) and to == S.OPEN:
        ticket.reopened_count += 1
        ticket.resolved_at = None
        ticket.outcome = ""
        fields += ["reopened_count", "resolved_at", "outcome"]
    if to in (S.RESOLVED, S.CLOSED):
        # Nothing is owed any more once the ticket is solved.
        ticket.sla_remind_at = None
        ticket.sla_breach_at = None
        fields += ["sla_remind_at", "sla_breach_at"]
    if to in (S.RESOLVED, S.CLOSED) or current in (S.RESOLVED, S.CLOSED):
        # Solved: the resolution target owes nothing; reopened: it is owed again (a
        # breach alert already sent has the same idempotency key and is not repeated).
        fields += resolution_arm(ticket, now)
        fields += department_arm(ticket, now)
    ticket.save(update_fields=sorted(set(fields)))
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.STATUS,
        actor=actor,
        actor_label=actor_label,
        field="status",
        old_value=current,
        new_value=to,
        note=note,
    )
    return ticket
