"""Staff access in one place (regulation 13): which tickets and files a staff member may
reach. Every staff-facing adapter (admin pages, downloads, the chat console, the API)
fetches through these helpers instead of filtering on its own, so a rule changed here
holds everywhere. Zulip-style: `access_*` returns the object or raises Http404, the same
answer for "does not exist" and "not yours", so ids cannot be probed.
"""

from django.db.models import Q, QuerySet
from django.http import Http404

from tickets.models import Attachment, CallbackRequest, Queue, Ticket

# Reading tickets at all: a staff account without either (a knowledge-base editor, say)
# reaches no ticket and no file, whatever its groups.
TICKET_PERMISSIONS = ("tickets.view_ticket", "tickets.change_ticket")


def user_sees_all_tickets(user) -> bool:
    return user.is_superuser or user.has_perm("tickets.supervise")


def user_sees_personal_data(user) -> bool:
    return user.is_superuser or user.has_perm("tickets.view_personal_data")


def user_works_tickets(user) -> bool:
    """An active staff account allowed to read tickets."""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    return user.is_superuser or any(user.has_perm(perm) for perm in TICKET_PERMISSIONS)


def tickets_for_staff(user, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """The tickets this staff member may see (`queryset` narrowed, or all tickets).

    Supervisors see every ticket; an operator sees the queues their groups work, tickets
    handed to their department (line 2), and tickets assigned to them. Anyone else sees
    none.
    """
    queryset = Ticket.objects.all() if queryset is None else queryset
    if not user_works_tickets(user):
        return queryset.none()
    if user_sees_all_tickets(user):
        return queryset
    group_ids = list(user.groups.values_list("id", flat=True))
    if not group_ids:
        return queryset.filter(assignee_id=user.pk)
    # The queues as a subquery, not a join: with the join PostgreSQL estimated the OR from
    # the queue table's statistics, and a queue given its operators' group since the last
    # ANALYZE (a handful of rows: autovacuum waits for 50 changes) made it expect one row,
    # sort the whole ticket table and answer an operator's first page in 4-7 s at 1M
    # tickets (bench/api.py). On the ticket table alone it walks the id index: ~6 ms.
    worked_queues = Queue.objects.filter(operators_group_id__in=group_ids).values("id")
    return queryset.filter(
        Q(queue_id__in=worked_queues) | Q(assigned_group_id__in=group_ids) | Q(assignee_id=user.pk)
    )


def user_may_hold_ticket(user, ticket: Ticket) -> bool:
    """Whether this staff member could see the ticket without being its assignee: the
    check before a ticket is handed to them, since the assignment itself would
    otherwise open a queue their groups do not work (and its requester's data)."""
    if not user_works_tickets(user):
        return False
    if user_sees_all_tickets(user):
        return True
    group_ids = set(user.groups.values_list("id", flat=True))
    return bool(group_ids) and bool(
        {ticket.queue.operators_group_id, ticket.assigned_group_id} & group_ids
    )


def access_ticket_for_staff(
    user, ticket_id: int | str, *, queryset: QuerySet[Ticket] | None = None
) -> Ticket:
    """The ticket if this staff member may see it; Http404 otherwise."""
    try:
        pk = int(ticket_id)
    except (TypeError, ValueError):
        raise Http404 from None
    ticket = tickets_for_staff(user, queryset).filter(pk=pk).first()
    if ticket is None:
        raise Http404
    return ticket


def access_attachment_for_staff(
    user, attachment_id: int | str, *, ticket_id: int | None = None
) -> Attachment:
    """A file of a ticket this staff member may see; Http404 otherwise (also when it
    belongs to another ticket than `ticket_id`, when given)."""
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise Http404 from None
    attachment = Attachment.objects.filter(pk=pk).first()
    if attachment is None or (ticket_id is not None and attachment.ticket_id != ticket_id):
        raise Http404
    # Two primary-key reads rather than a semi-join over every visible ticket.
    if not tickets_for_staff(user).filter(pk=attachment.ticket_id).exists():
        raise Http404
    return attachment


def callbacks_for_staff(user) -> QuerySet[CallbackRequest]:
    """Call-back entries of the tickets this staff member may see (`tickets_for_staff`)."""
    queryset = CallbackRequest.objects.all()
    if not user_works_tickets(user):
        return queryset.none()
    if user_sees_all_tickets(user):
        return queryset
    return queryset.filter(ticket__in=tickets_for_staff(user).values("pk"))


def access_callback_for_staff(user, callback_id: int | str) -> CallbackRequest:
    """A call-back entry of a ticket this staff member may see; Http404 otherwise."""
    try:
        pk = int(callback_id)
    except (TypeError, ValueError):
        raise Http404 from None
    callback = (
        CallbackRequest.objects.select_related("ticket", "ticket__requester", "ticket__queue")
        .filter(pk=pk)
        .first()
    )
    if callback is None or not tickets_for_staff(user).filter(pk=callback.ticket_id).exists():
        raise Http404
    return callback
