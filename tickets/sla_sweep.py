"""The SLA sweep (beat, every minute; `manage.py sla_sweep`): reminders and breaches.

Regulation 3: the first answer is due within 24 hours; a reminder goes to whoever works
the ticket before the deadline (default at 75 %), a breach alert to supervisors after
it; each exactly once.

Each ticket carries the next moments the sweep must act at (`sla_remind_at`,
`sla_breach_at`, see `tickets.sla.sla_arm`), each under a partial index holding only
tickets still owed that alert. The sweep reads `<field> <= now` from that index in
batches (an index range scan; never a scan of the tickets table), locks the rows with
`FOR UPDATE SKIP LOCKED`, enqueues the mails with idempotency keys, clears the field and
writes a history entry in the same transaction. A concurrent sweep skips the locked rows
and, once they commit, no longer finds them: two sweeps never alert twice.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.services import notification_enqueue_many
from tickets import notify
from tickets.models import Ticket, TicketEvent

BATCH = 500


def tickets_due_for_reminder(now: datetime, limit: int):
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "requester", "assignee")
        .filter(sla_remind_at__lte=now)
        .order_by("sla_remind_at")[:limit]
    )


def tickets_due_for_breach(now: datetime, limit: int):
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "requester", "assignee")
        .filter(sla_breach_at__lte=now)
        .order_by("sla_breach_at")[:limit]
    )


def _history(ticket: Ticket, field: str, due: datetime, note: str, now: datetime):
    return TicketEvent(
        ticket=ticket,
        kind=TicketEvent.Kind.SLA,
        actor_label="system",
        field=field,
        old_value=due.isoformat(),
        note=note,
        created_at=now,
    )


class _Lazy:
    """Values the sweep needs only when something is due (most sweeps find nothing)."""

    def __init__(self):
        self._own = None
        self._bosses = None
        self._staff: dict[tuple, list] = {}

    def staff_for(self, ticket: Ticket) -> list:
        # Many due tickets share an assignee or queue: ask the database once per sweep.
        key = (ticket.assignee_id, ticket.assigned_group_id, ticket.queue.operators_group_id)
        if key not in self._staff:
            self._staff[key] = notify.ticket_staff_recipients(ticket)
        return self._staff[key]

    @property
    def own(self) -> set[str]:
        if self._own is None:
            self._own = notify.queue_addresses()
        return self._own

    @property
    def bosses(self) -> list:
        if self._bosses is None:
            self._bosses = notify.supervisors()
        return self._bosses


def _sweep_reminders(now: datetime, batch: int, lazy: _Lazy) -> tuple[int, int]:
    """One batch of reminders. Returns (tickets handled, mails enqueued)."""
    with transaction.atomic():
        tickets = list(tickets_due_for_reminder(now, batch))
        events, items = [], []
        for ticket in tickets:
            due = ticket.sla_remind_at
            if ticket.first_response_due and ticket.first_response_due <= now:
                # The sweep was not running and the deadline has passed too: the breach
                # alert says it all, a late "due soon" would only confuse.
                note = "reminder skipped: the deadline has already passed"
            else:
                users = lazy.staff_for(ticket)
                items += notify.sla_reminder_items(
                    ticket=ticket, due=due, users=users, own=lazy.own
                )
                note = "reminder sent to " + ", ".join(u.get_username() for u in users)
            events.append(_history(ticket, "sla_remind_at", due, note, now))
        mails = notification_enqueue_many(items=items)
        if tickets:
            Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(sla_remind_at=None)
            TicketEvent.objects.bulk_create(events)
    return len(tickets), mails


def _sweep_breaches(now: datetime, batch: int, lazy: _Lazy) -> tuple[int, int]:
    with transaction.atomic():
        tickets = list(tickets_due_for_breach(now, batch))
        events, items = [], []
        for ticket in tickets:
            due = ticket.sla_breach_at
            bosses = lazy.bosses
            items += notify.sla_breach_items(ticket=ticket, due=due, users=bosses, own=lazy.own)
            note = "breach alert sent to " + ", ".join(u.get_username() for u in bosses)
            events.append(_history(ticket, "sla_breach_at", due, note, now))
        mails = notification_enqueue_many(items=items)
        if tickets:
            # A ticket past its deadline owes no reminder any more either.
            Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
                sla_breach_at=None, sla_remind_at=None
            )
            TicketEvent.objects.bulk_create(events)
    return len(tickets), mails


def sla_sweep(*, now: datetime | None = None, batch: int = BATCH) -> dict:
    """Enqueue every reminder and breach alert that is due. Safe to run concurrently.

    Returns counts: tickets reminded/breached and mails enqueued.
    """
    now = now or timezone.now()
    lazy = _Lazy()
    result = {"breaches": 0, "reminders": 0, "mails": 0}
    # A plain index probe first: when nothing is due (nearly always) the sweep costs one
    # round trip per kind instead of a locking transaction.
    if Ticket.objects.filter(sla_breach_at__lte=now).exists():
        while True:
            handled, mails = _sweep_breaches(now, batch, lazy)
            result["breaches"] += handled
            result["mails"] += mails
            if handled < batch:
                break
    if Ticket.objects.filter(sla_remind_at__lte=now).exists():
        while True:
            handled, mails = _sweep_reminders(now, batch, lazy)
            result["reminders"] += handled
            result["mails"] += mails
            if handled < batch:
                break
    return result
