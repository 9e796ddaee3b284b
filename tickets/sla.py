"""The SLA clock: due times per queue policy (regulation 3: first answer within 24 hours).

Every duration here is working time on the queue's clock (`tickets.business_time`):
wall-clock time for a 24/7 queue, the business calendar's working hours otherwise.
"""

from datetime import datetime, timedelta

from tickets.business_time import working_time
from tickets.models import Queue, Ticket
from tickets.models.department import department_deadline_hours


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


def _moments(
    ticket: Ticket, due: datetime | None, now: datetime | None, total
) -> tuple[datetime | None, datetime | None]:
    """(remind at, breach at) of a target met by resolving: none for a solved or paused
    ticket or one without the target; a reminder already past `now` is not set again.
    `total(due)`: the target's length, called only when there is one."""
    if due is None or not ticket.is_open or ticket.sla_paused_at is not None:
        return None, None
    remind = _remind_at(ticket, total(due), due)
    return (remind if remind and (now is None or remind > now) else None), due


def resolution_arm(ticket: Ticket, now: datetime | None = None) -> list[str]:
    """Set the resolution target's reminder and breach moments (DESIGN rule 3, the
    optional resolution target). Returns the changed field names."""
    ticket.resolution_remind_at, ticket.resolution_breach_at = _moments(
        ticket,
        ticket.resolution_due,
        now,
        lambda due: working_time(ticket.queue).between(ticket.created_at, due),
    )
    return ["resolution_remind_at", "resolution_breach_at"]


def department_arm(
    ticket: Ticket, now: datetime | None = None, hours: int | None = None
) -> list[str]:
    """Set the department deadline's reminder and breach moments (seed 003: «обязательный
    срок исполнения»). `hours`: the department's time, when the caller has it at hand
    (else looked up). Returns the changed field names."""
    ticket.department_remind_at, ticket.department_breach_at = _moments(
        ticket,
        ticket.department_due,
        now,
        lambda _due: timedelta(
            hours=hours if hours is not None else department_deadline_hours(ticket.assigned_group)
        ),
    )
    return ["department_remind_at", "department_breach_at"]


def department_start(ticket: Ticket, now: datetime) -> list[str]:
    """The ticket is handed to a department (or the second line): its deadline starts
    now, in working time on the queue's clock. Returns the changed field names."""
    hours = department_deadline_hours(ticket.assigned_group)
    ticket.department_due = working_time(ticket.queue).add(now, timedelta(hours=hours))
    return ["department_due", *department_arm(ticket, now, hours)]


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
    ticket.department_remind_at = None
    ticket.department_breach_at = None
    return [
        "sla_paused_at",
        "sla_remind_at",
        "sla_breach_at",
        "resolution_remind_at",
        "resolution_breach_at",
        "department_remind_at",
        "department_breach_at",
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
    if ticket.department_due:
        if ticket.department_due > paused_at:
            left = clock.between(paused_at, ticket.department_due)
            ticket.department_due = clock.add(now, left)
            fields.append("department_due")
        # Already past at the pause: its breach alert went out and is not sent again.
        fields += department_arm(ticket, now) if "department_due" in fields else []
    if owed:
        remind = _remind_at(ticket, total)
        ticket.sla_remind_at = remind if remind and remind > now else None
        ticket.sla_breach_at = ticket.first_response_due
    fields += ["sla_remind_at", "sla_breach_at"]
    return fields
