"""Who works a ticket: least-loaded automatic assignment within a queue's operators."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q

from tickets.models import Ticket
from tickets.services.tickets import ticket_assign

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING)


def operator_least_loaded(*, queue):
    """The active staff member of the queue's operators group with the fewest open
    tickets (ties: the lower id), or None when the queue has no operators."""
    if queue.operators_group_id is None:
        return None
    User = get_user_model()
    return (
        User.objects.filter(is_active=True, is_staff=True, groups=queue.operators_group_id)
        .annotate(
            open_count=Count(
                "assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES)
            )
        )
        .order_by("open_count", "id")
        .first()
    )


def ticket_auto_assign(*, ticket: Ticket, actor=None) -> Ticket:
    """Assign a new ticket to the least-loaded operator when both the setting
    (`AUTO_ASSIGN`) and the queue ask for it. Call inside the creating transaction."""
    if not settings.AUTO_ASSIGN or not ticket.queue.auto_assign or ticket.assignee_id:
        return ticket
    operator = operator_least_loaded(queue=ticket.queue)
    if operator is None:
        return ticket
    # The queue's own operators group chose them.
    return ticket_assign(ticket=ticket, assignee=operator, actor=actor, check_assignee=False)
