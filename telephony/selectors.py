"""Reads of the call log for staff, through tickets' staff access layer."""

from django.db.models import Q, QuerySet

from telephony.models import CallRecord
from tickets.access import tickets_for_staff, user_sees_all_tickets, user_works_tickets


def calls_for_staff(user) -> QuerySet[CallRecord]:
    """Supervisors see every call; an operator the calls they took and the calls linked
    to tickets they may see; anyone else none."""
    queryset = CallRecord.objects.all()
    if not user_works_tickets(user):
        return queryset.none()
    if user_sees_all_tickets(user):
        return queryset
    return queryset.filter(
        Q(operator_id=user.pk) | Q(ticket__in=tickets_for_staff(user).values("pk"))
    )


def calls_for_ticket(ticket, *, limit: int = 10) -> list[CallRecord]:
    """The ticket's calls: linked to it, or to or from its requester's number. One query."""
    condition = Q(ticket=ticket)
    phone = ticket.requester.phone
    if phone:
        condition |= Q(from_number=phone) | Q(to_number=phone)
    return list(
        CallRecord.objects.filter(condition).select_related("operator").order_by("-ring_at")[:limit]
    )
