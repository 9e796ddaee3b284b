"""Reads for the operators' call-back list (regulation 12), through the staff access layer."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from tickets.access import callbacks_for_staff
from tickets.models import CallbackRequest, Ticket


@dataclass(frozen=True)
class CallbackCounts:
    open: int
    due: int


def callbacks_open_for_staff(user) -> QuerySet[CallbackRequest]:
    """Open entries this staff member may work, the most urgent (earliest due) first."""
    return (
        callbacks_for_staff(user)
        .filter(closed_at__isnull=True)
        .select_related("ticket", "ticket__queue", "ticket__requester", "last_attempt_by")
        .order_by("due_at", "id")
    )


def callbacks_closed_for_staff(user) -> QuerySet[CallbackRequest]:
    """Closed entries, newest first (what was done today and before)."""
    return (
        callbacks_for_staff(user)
        .filter(closed_at__isnull=False)
        .select_related("ticket", "ticket__queue", "ticket__requester", "last_attempt_by")
        .order_by("-closed_at", "-id")
    )


def callbacks_count_for_staff(user) -> CallbackCounts:
    """For the admin home tile: open entries, and those due now (overdue included)."""
    open_entries = callbacks_for_staff(user).filter(closed_at__isnull=True)
    return CallbackCounts(
        open=open_entries.count(),
        due=open_entries.filter(due_at__lte=timezone.now()).count(),
    )


def ticket_callbacks(ticket: Ticket) -> list[CallbackRequest]:
    """A ticket's call-back entries, newest first, for its page."""
    return list(
        CallbackRequest.objects.filter(ticket=ticket)
        .select_related("last_attempt_by")
        .order_by("-created_at", "-id")[:10]
    )
