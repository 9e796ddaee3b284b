"""The SLA clock: due times per queue policy (regulation 3: first answer within 24 hours)."""

from datetime import datetime, timedelta

from tickets.models import Queue, Ticket


def sla_due_times(*, queue: Queue, start: datetime) -> tuple[datetime, datetime | None]:
    first = start + timedelta(hours=queue.sla_first_response_hours)
    resolution = (
        start + timedelta(hours=queue.sla_resolution_hours) if queue.sla_resolution_hours else None
    )
    return first, resolution


def sla_arm(ticket: Ticket) -> list[str]:
    """Set the moments the sweep must act at for a ticket still owed a first answer.

    Returns the changed field names.
    """
    if ticket.first_response_at is not None or ticket.first_response_due is None:
        ticket.sla_remind_at = None
        ticket.sla_breach_at = None
    else:
        total = ticket.first_response_due - ticket.created_at
        percent = ticket.queue.sla_reminder_percent
        ticket.sla_remind_at = (
            ticket.created_at + total * percent / 100 if 0 < percent < 100 else None
        )
        ticket.sla_breach_at = ticket.first_response_due
    return ["sla_remind_at", "sla_breach_at"]


def sla_pause(ticket: Ticket, now: datetime) -> list[str]:
    """Stop the clock while the ticket waits for the citizen (if the queue wants that)."""
    if not ticket.queue.pause_sla_when_pending or ticket.sla_paused_at:
        return []
    ticket.sla_paused_at = now
    ticket.sla_remind_at = None
    ticket.sla_breach_at = None
    return ["sla_paused_at", "sla_remind_at", "sla_breach_at"]


def sla_resume(ticket: Ticket, now: datetime) -> list[str]:
    """Restart the clock, moving the due times by the time spent waiting."""
    if ticket.sla_paused_at is None:
        return []
    paused = now - ticket.sla_paused_at
    ticket.sla_paused_at = None
    fields = ["sla_paused_at"]
    if ticket.first_response_due and ticket.first_response_at is None:
        ticket.first_response_due += paused
        fields.append("first_response_due")
    if ticket.resolution_due:
        ticket.resolution_due += paused
        fields.append("resolution_due")
    # Re-arm relative to the shifted deadline; created_at is unchanged, so shift it too.
    if ticket.first_response_at is None and ticket.first_response_due:
        total = ticket.first_response_due - ticket.created_at - paused
        percent = ticket.queue.sla_reminder_percent
        remind = ticket.created_at + paused + total * percent / 100
        ticket.sla_remind_at = remind if 0 < percent < 100 and remind > now else None
        ticket.sla_breach_at = ticket.first_response_due
    fields += ["sla_remind_at", "sla_breach_at"]
    return fields
