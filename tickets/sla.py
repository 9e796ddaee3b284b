"""The SLA clock: due times per queue policy (regulation 3: first answer within 24 hours).

Every duration here is working time on the queue's clock (`tickets.business_time`):
wall-clock time for a 24/7 queue, the business calendar's working hours otherwise.
"""

from datetime import datetime, timedelta

from tickets.business_time import working_time
from tickets.models import Queue, Ticket


def sla_due_times(*, queue: Queue, start: datetime) -> tuple[datetime, datetime | None]:
    clock = working_time(queue)
    first = clock.add(start, timedelta(hours=queue.sla_first_response_hours))
    resolution = (
        clock.add(start, timedelta(hours=queue.sla_resolution_hours))
        if queue.sla_resolution_hours
        else None
    )
    return first, resolution


def _remind_at(ticket: Ticket, total: timedelta, due: datetime | None = None) -> datetime | None:
    """The reminder goes out when `percent` of the time is used, i.e. when the rest of
    it is left before the deadline."""
    percent = ticket.queue.sla_reminder_percent
    if not 0 < percent < 100:
        return None
    due = due or ticket.first_response_due
    return working_time(ticket.queue).subtract(due, total * (100 - percent) / 100)


def resolution_arm(ticket: Ticket, now: datetime | None = None) -> list[str]:
    """Set the resolution target's reminder and breach moments (DESIGN rule 3, the
    optional resolution target) for an open ticket; clear them for a solved one or one
    without a target. A reminder already past `now` is not set again.

    Returns the changed field names.
    """
    due = ticket.resolution_due
    if due is None or not ticket.is_open or ticket.sla_paused_at is not None:
        ticket.resolution_remind_at = None
        ticket.resolution_breach_at = None
    else:
        total = working_time(ticket.queue).between(ticket.created_at, due)
        remind = _remind_at(ticket, total, due)
        ticket.resolution_remind_at = remind if remind and (now is None or remind > now) else None
        ticket.resolution_breach_at = due
    return ["resolution_remind_at", "resolution_breach_at"]


def sla_arm(ticket: Ticket) -> list[str]:
    """Set the moments the sweep must act at for a ticket still owed a first answer.

    Returns the changed field names.
    """
    if ticket.first_response_at is not None or ticket.first_response_due is None:
        ticket.sla_remind_at = None
        ticket.sla_breach_at = None
    else:
        total = working_time(ticket.queue).between(ticket.created_at, ticket.first_response_due)
        ticket.sla_remind_at = _remind_at(ticket, total)
        ticket.sla_breach_at = ticket.first_response_due
    return ["sla_remind_at", "sla_breach_at"]


def sla_pause(ticket: Ticket, now: datetime) -> list[str]:
    """Stop the clock while the ticket waits for the citizen (if the queue wants that)."""
    if not ticket.queue.pause_sla_when_pending or ticket.sla_paused_at:
        return []
    ticket.sla_paused_at = now
    ticket.sla_remind_at = None
    ticket.sla_breach_at = None
    ticket.resolution_remind_at = None
    ticket.resolution_breach_at = None
    return [
        "sla_paused_at",
        "sla_remind_at",
        "sla_breach_at",
        "resolution_remind_at",
        "resolution_breach_at",
    ]


def sla_resume(ticket: Ticket, now: datetime) -> list[str]:
    """Restart the clock: each due time keeps the working time it had left at the pause."""
    if ticket.sla_paused_at is None:
        return []
    clock = working_time(ticket.queue)
    paused_at = ticket.sla_paused_at
    ticket.sla_paused_at = None
    fields = ["sla_paused_at"]
    owed = ticket.first_response_at is None and ticket.first_response_due is not None
    if owed:
        total = clock.between(ticket.created_at, ticket.first_response_due)
        left = clock.between(paused_at, ticket.first_response_due)
        ticket.first_response_due = clock.add(now, left)
        fields.append("first_response_due")
    if ticket.resolution_due:
        left = clock.between(paused_at, ticket.resolution_due)
        ticket.resolution_due = clock.add(now, left)
        fields.append("resolution_due")
        fields += resolution_arm(ticket, now)
    if owed:
        remind = _remind_at(ticket, total)
        ticket.sla_remind_at = remind if remind and remind > now else None
        ticket.sla_breach_at = ticket.first_response_due
    fields += ["sla_remind_at", "sla_breach_at"]
    return fields
