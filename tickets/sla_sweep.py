"""The SLA sweep (beat, every minute; `manage.py sla_sweep`): reminders and breaches.

Regulation 3: the first answer is due within 24 hours; a reminder goes to whoever works
the ticket before the deadline (default at 75 %), a breach alert to supervisors after
it; each exactly once. The optional resolution target has its own pair, kept the same way
(`resolution_remind_at`, `resolution_breach_at`, see `tickets.sla.resolution_arm`), and so
has the department deadline of an escalated ticket (seed 003, `department_remind_at`,
`department_breach_at`, see `tickets.sla.department_arm`).

Each ticket carries the next moments the sweep must act at (`sla_remind_at`,
`sla_breach_at`, see `tickets.sla.sla_arm`), each under a partial index holding only
tickets still owed that alert. The sweep reads `<field> <= now` from that index in
batches (an index range scan; never a scan of the tickets table), locks the rows with
`FOR UPDATE SKIP LOCKED`, enqueues the mails with idempotency keys, clears the field and
writes a history entry in the same transaction. A concurrent sweep skips the locked rows
and, once they commit, no longer finds them: two sweeps never alert twice.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from notifications.services import notification_enqueue_many
from tickets import notify
from tickets.models import Ticket, TicketEvent

BATCH = 500


def _tickets_due(field: str, now: datetime, limit: int):
    return (
        Ticket.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("queue", "requester", "assignee", "assigned_group")
        .filter(**{f"{field}__lte": now})
        .order_by(field)[:limit]
    )


def tickets_due_for_reminder(now: datetime, limit: int):
    return _tickets_due("sla_remind_at", now, limit)


def tickets_due_for_breach(now: datetime, limit: int):
    return _tickets_due("sla_breach_at", now, limit)


@dataclass(frozen=True)
class Alert:
    """One kind of one-shot alert: the moment field the sweep scans, the deadline it
    belongs to, who hears of it, and the fields cleared once it is enqueued."""

    key: str  # in the sweep's result
    field: str
    due_field: str
    breach: bool
    items: Callable[..., list[dict]]
    clears: tuple[str, ...]


# Breaches first: a breach clears the reminder it makes pointless.
ALERTS = (
    Alert(
        "breaches",
        "sla_breach_at",
        "first_response_due",
        True,
        notify.sla_breach_items,
        ("sla_breach_at", "sla_remind_at"),
    ),
    Alert(
        "resolution_breaches",
        "resolution_breach_at",
        "resolution_due",
        True,
        notify.resolution_breach_items,
        ("resolution_breach_at", "resolution_remind_at"),
    ),
    Alert(
        "department_breaches",
        "department_breach_at",
        "department_due",
        True,
        notify.department_breach_items,
        ("department_breach_at", "department_remind_at"),
    ),
    Alert(
        "reminders",
        "sla_remind_at",
        "first_response_due",
        False,
        notify.sla_reminder_items,
        ("sla_remind_at",),
    ),
    Alert(
        "resolution_reminders",
        "resolution_remind_at",
        "resolution_due",
        False,
        notify.resolution_reminder_items,
        ("resolution_remind_at",),
    ),
    Alert(
        "department_reminders",
        "department_remind_at",
        "department_due",
        False,
        notify.department_reminder_items,
        ("department_remind_at",),
    ),
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


def _already_recorded(alert: Alert, tickets: list[Ticket]) -> set[tuple[int, str]]:
    """(ticket, moment) pairs of `tickets` whose alert of this kind is in their history.

    Reopening a solved ticket owes its targets again and re-arms a deadline already past
    (`tickets.workflow.ticket_transition`): without this, each reopening wrote the breach
    line again and alerted whoever had become a supervisor since. One moment is alerted
    once; a new escalation is a new deadline, hence a new moment, and is alerted again.
    """
    if not tickets:
        return set()
    return set(
        TicketEvent.objects.filter(
            ticket_id__in=[t.pk for t in tickets], kind=TicketEvent.Kind.SLA, field=alert.field
        ).values_list("ticket_id", "old_value")
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


def _sweep(alert: Alert, now: datetime, batch: int, lazy: _Lazy) -> tuple[int, int, int]:
    """One batch of one kind of alert. Returns (tickets taken, alerted, mails enqueued)."""
    with transaction.atomic():
        tickets = list(_tickets_due(alert.field, now, batch))
        done = _already_recorded(alert, tickets)
        events, items = [], []
        for ticket in tickets:
            moment = getattr(ticket, alert.field)
            deadline = getattr(ticket, alert.due_field)
            if (ticket.pk, moment.isoformat()) in done:
                # Re-armed by reopening with the same deadline: that moment has had its
                # alert and its history line; only the field is cleared.
                continue
            if alert.breach:
                users = lazy.bosses
                items += alert.items(ticket=ticket, due=moment, users=users, own=lazy.own)
                note = "breach alert sent to " + ", ".join(u.get_username() for u in users)
            elif deadline and deadline <= now:
                # The sweep was not running and the deadline has passed too: the breach
                # alert says it all, a late "due soon" would only confuse.
                note = "reminder skipped: the deadline has already passed"
            else:
                users = lazy.staff_for(ticket)
                items += alert.items(ticket=ticket, due=moment, users=users, own=lazy.own)
                note = "reminder sent to " + ", ".join(u.get_username() for u in users)
            events.append(_history(ticket, alert.field, moment, note, now))
        mails = notification_enqueue_many(items=items)
        if tickets:
            Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
                **dict.fromkeys(alert.clears)
            )
            TicketEvent.objects.bulk_create(events)
    return len(tickets), len(events), mails


def sla_sweep(*, now: datetime | None = None, batch: int = BATCH) -> dict:
    """Enqueue every reminder and breach alert that is due. Safe to run concurrently.

    Returns counts: tickets reminded/breached and mails enqueued.
    """
    now = now or timezone.now()
    lazy = _Lazy()
    result = dict.fromkeys([alert.key for alert in ALERTS], 0) | {"mails": 0}
    for alert in ALERTS:
        # A plain index probe first: when nothing is due (nearly always) the sweep costs
        # one round trip per kind instead of a locking transaction.
        if not Ticket.objects.filter(**{f"{alert.field}__lte": now}).exists():
            continue
        while True:
            handled, alerted, mails = _sweep(alert, now, batch, lazy)
            result[alert.key] += alerted
            result["mails"] += mails
            if handled < batch:
                break
    return result
