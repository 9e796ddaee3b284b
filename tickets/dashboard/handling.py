"""Dashboard figures on how appeals are worked (seed 003's metrics): handle time, appeals
by type, reopen rate by queue.

Handle time is the operator's working time on a ticket resolved in the period: from the
moment someone took it (its first assignment, or its first move out of "new") to its
final resolution, without the stretches it spent waiting for the citizen ("pending") or
resolved before a reopen. It is read from the append-only history (status and
assignment events of those tickets only, one ordered query), because it is a sum of
intervals no single column holds.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.db.models import Count, Q

from tickets.dashboard.filters import DashboardFilters
from tickets.models import Ticket, TicketEvent

S = Ticket.Status
# While a ticket is in these states after it was taken, an operator owes it work.
WORKING = (S.NEW.value, S.OPEN.value)


def percentile(ordered: list[float], p: float) -> float | None:
    """Linear interpolation between neighbours, as `percentile_cont` does."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def working_seconds(events: list[tuple[str, str, str, datetime]]) -> float | None:
    """Seconds of work in one ticket's (kind, old, new, when) events, in order; None if
    nobody ever took it."""
    status, taken, since, total = S.NEW.value, False, None, 0.0
    for kind, old, new, when in events:
        if not taken and (
            (kind == TicketEvent.Kind.ASSIGNED and new)
            or (kind == TicketEvent.Kind.STATUS and old == S.NEW)
        ):
            taken = True
            if status in WORKING:
                since = when
        if kind != TicketEvent.Kind.STATUS:
            continue
        if since is not None and new not in WORKING:
            total += (when - since).total_seconds()
            since = None
        elif since is None and taken and new in WORKING:
            since = when
        status = new
    return total if taken else None


def handle_time_summary(filters: DashboardFilters) -> dict[str, Any]:
    """Tickets resolved in the period: median and 90th percentile handle time."""
    resolved = Ticket.objects.filter(
        resolved_at__gte=filters.start,
        resolved_at__lt=filters.end,
        status__in=(S.RESOLVED, S.CLOSED),
        **filters.ticket_q(),
    ).values("pk")
    rows = (
        TicketEvent.objects.filter(
            ticket__in=resolved, kind__in=(TicketEvent.Kind.STATUS, TicketEvent.Kind.ASSIGNED)
        )
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "kind", "old_value", "new_value", "created_at")
    )
    seconds = []
    for _ticket, events in groupby(rows.iterator(chunk_size=5000), key=lambda row: row[0]):
        worked = working_seconds([row[1:] for row in events])
        if worked is not None:
            seconds.append(worked)
    seconds.sort()

    def duration(p: float) -> timedelta | None:
        value = percentile(seconds, p)
        return None if value is None else timedelta(seconds=round(value))

    return {"count": len(seconds), "median": duration(0.5), "p90": duration(0.9)}


def created_by_kind(filters: DashboardFilters) -> dict[str, int]:
    """Appeals received in the period per type (regulation 11), every type present."""
    rows = (
        Ticket.objects.filter(
            created_at__gte=filters.start, created_at__lt=filters.end, **filters.ticket_q()
        )
        .values("kind")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(Ticket.Kind.values, 0)
    counts.update({row["kind"]: row["count"] for row in rows})
    return counts


def reopen_by_queue(filters: DashboardFilters) -> list[dict[str, Any]]:
    """Per queue, tickets resolved in the period and how many of them were ever reopened."""
    rows = (
        Ticket.objects.filter(
            resolved_at__gte=filters.start, resolved_at__lt=filters.end, **filters.ticket_q()
        )
        .values("queue_id", "queue__name")
        .annotate(resolved=Count("pk"), reopened=Count("pk", filter=Q(reopened_count__gt=0)))
        .order_by()
    )
    result = [
        {
            "queue_id": row["queue_id"],
            "name": row["queue__name"],
            "resolved": row["resolved"],
            "reopened": row["reopened"],
            "percent": round(100.0 * row["reopened"] / row["resolved"], 1),
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: (-r["percent"], -r["resolved"], r["name"]))
