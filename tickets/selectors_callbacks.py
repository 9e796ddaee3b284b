"""Reads for the operators' call-back list (regulation 12), through the staff access layer,
and the citizen's «Мы перезвоним вам …»."""

from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from tickets.access import callbacks_for_staff
from tickets.citizen_time import citizen_deadline, queue_time_zone, zone_label
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


def ticket_open_callback(ticket: Ticket) -> CallbackRequest | None:
    """The ticket's open call-back entry (there is at most one), with its ticket's queue."""
    return (
        CallbackRequest.objects.filter(ticket=ticket, closed_at__isnull=True)
        .select_related("ticket__queue__calendar")
        .first()
    )


def callback_promise(callback: CallbackRequest) -> str:
    """What the citizen is told once they asked for a call-back, on the done and status
    pages and in the chat: the chosen window (or the due time) in the queue's time zone,
    and the number: «Мы перезвоним вам 7 декабря утром (9–12) по времени МСК по номеру
    +79123456789.»"""
    zone = queue_time_zone(callback.ticket.queue)
    if callback.window and callback.window_date is not None:
        start_hour = CallbackRequest.WINDOW_HOURS[callback.window][0]
        start = datetime.combine(callback.window_date, time(start_hour), tzinfo=zone)
        return _("We will call you back on %(day)s %(window)s, %(zone)s time, at %(phone)s.") % {
            "day": formats.date_format(callback.window_date, "j E"),
            "window": callback.get_window_display(),
            "zone": zone_label(start),
            "phone": callback.phone,
        }
    return _("We will call you back by %(due)s at %(phone)s.") % {
        "due": citizen_deadline(callback.due_at, zone),
        "phone": callback.phone,
    }
