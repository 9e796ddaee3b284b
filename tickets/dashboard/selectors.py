"""Read side of the supervisor dashboard: every figure is an aggregate computed in the database.

Definitions (all for the period and filters in `DashboardFilters`):

- SLA compliance (regulation 3): a ticket's first-answer outcome is decided at the
  earlier of its first answer and its deadline. Tickets decided in the period count;
  those answered by the deadline are "met". Tickets still unanswered before their
  deadline are not decided yet and do not count.
- First-response time: tickets first answered in the period, answer time − creation.
- Resolution time, first-contact resolution and reopen rate: tickets resolved in the period.
- CSAT: satisfaction responses received in the period (rating 1–5).
- Handle time, appeals by type, reopen rate by queue: `tickets/dashboard/handling.py`;
  figures of other apps (chat waiting time): `tickets/dashboard/sections.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Avg,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce, Least, TruncDate

from tickets.dashboard.filters import DashboardFilters
from tickets.dashboard.handling import created_by_kind, handle_time_summary, reopen_by_queue
from tickets.dashboard.percentiles import (
    grouped_percentiles,
    has_percentile_cont,
    percentile_aggregates,
)
from tickets.dashboard.sections import dashboard_sections
from tickets.models import Message, Queue, SatisfactionResponse, Ticket

S = Ticket.Status
OPEN_STATUSES = (S.NEW.value, S.OPEN.value, S.PENDING.value)
DUE_SOON = timedelta(hours=2)
AT_RISK_LIMIT = 50

# Histogram of first-response times: (key, upper bound); the last bucket is open-ended.
RESPONSE_BUCKETS: list[tuple[str, timedelta | None]] = [
    ("lt1h", timedelta(hours=1)),
    ("1_4h", timedelta(hours=4)),
    ("4_8h", timedelta(hours=8)),
    ("8_24h", timedelta(hours=24)),
    ("gt24h", None),
]


def sla_decided_at():
    """When a ticket's first-answer outcome is known: answer or deadline, whichever is first.

    Written so that SQLite (whose MIN() is NULL if any argument is) and PostgreSQL
    (whose LEAST() skips NULLs) agree; the same expression backs an index.
    """
    return Least(
        Coalesce("first_response_at", "first_response_due"),
        "first_response_due",
        output_field=DateTimeField(),
    )


def first_response_time():
    return ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())


def resolution_time():
    return ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def tickets_for(filters: DashboardFilters) -> QuerySet[Ticket]:
    return Ticket.objects.filter(**filters.ticket_q()).order_by()


# --- Tiles ----------------------------------------------------------------------------


def open_breakdown(filters: DashboardFilters) -> list[dict[str, Any]]:
    """Open tickets grouped by queue, assignee and status, with how many of them are past
    their first-answer deadline or due within 2 h. One scan (of a partial index on
    PostgreSQL) feeds the tiles, the queue chart and the operators' load."""
    now = filters.now
    owed = Q(first_response_at__isnull=True, sla_paused_at__isnull=True)
    return list(
        tickets_for(filters)
        .filter(status__in=OPEN_STATUSES)
        .values("queue_id", "assignee_id", "status")
        .annotate(
            count=Count("pk"),
            breached=Count("pk", filter=owed & Q(first_response_due__lt=now)),
            due_soon=Count(
                "pk",
                filter=owed & Q(first_response_due__gte=now, first_response_due__lt=now + DUE_SOON),
            ),
        )
        .order_by()
    )


def current_load(
    filters: DashboardFilters, breakdown: list[dict[str, Any]] | None = None
) -> dict[str, int]:
    """Open now, new today, breached now, due within 2 h, and escalated tickets past
    their department's deadline (the period does not apply)."""
    if breakdown is None:
        breakdown = open_breakdown(filters)
    new_today = tickets_for(filters).filter(created_at__gte=filters.today_start).count()
    # Seed 003 «обязательный срок исполнения»: a range scan of the partial index of open
    # escalated tickets (ticket_department_open).
    department_overdue = (
        tickets_for(filters)
        .filter(
            status__in=OPEN_STATUSES,
            department_due__isnull=False,
            department_due__lt=filters.now,
            sla_paused_at__isnull=True,
        )
        .count()
    )
    return {
        "open": sum(row["count"] for row in breakdown),
        "new_today": new_today,
        "breached": sum(row["breached"] for row in breakdown),
        "due_soon": sum(row["due_soon"] for row in breakdown),
        "department_overdue": department_overdue,
    }


def sla_per_day(filters: DashboardFilters) -> dict[date, dict[str, int]]:
    """Tickets whose first-answer outcome was decided each day: total and met."""
    rows = (
        tickets_for(filters)
        .annotate(decided_at=sla_decided_at())
        .filter(decided_at__gte=filters.start, decided_at__lt=filters.observed_end)
        .annotate(day=TruncDate("decided_at"))
        .values("day")
        .annotate(
            total=Count("pk"),
            met=Count("pk", filter=Q(first_response_at__lte=F("first_response_due"))),
        )
        .order_by("day")
    )
    return {row["day"]: {"total": row["total"], "met": row["met"]} for row in rows}


def sla_summary(per_day: dict[date, dict[str, int]]) -> dict[str, Any]:
    total = sum(day["total"] for day in per_day.values())
    met = sum(day["met"] for day in per_day.values())
    return {"total": total, "met": met, "breached": total - met, "percent": _percent(met, total)}


def created_per_day(filters: DashboardFilters) -> list[dict[str, Any]]:
    """Tickets created per day and channel, with complaints and suggestions (regulation 11)."""
    K = Ticket.Kind
    return list(
        tickets_for(filters)
        .filter(created_at__gte=filters.start, created_at__lt=filters.end)
        .annotate(day=TruncDate("created_at"))
        .values("day", "channel")
        .annotate(
            count=Count("pk"),
            complaints=Count("pk", filter=Q(kind=K.COMPLAINT)),
            suggestions=Count("pk", filter=Q(kind=K.SUGGESTION)),
        )
        .order_by("day", "channel")
    )


def response_times(filters: DashboardFilters) -> dict[str, Any]:
    """First-response time of tickets first answered in the period: median, p90, histogram."""
    qs = tickets_for(filters).filter(
        first_response_at__gte=filters.start, first_response_at__lt=filters.end
    )
    buckets = {}
    lower = None
    for key, upper in RESPONSE_BUCKETS:
        q = Q()
        if lower is not None:
            q &= Q(first_response_at__gte=F("created_at") + lower)
        if upper is not None:
            q &= Q(first_response_at__lt=F("created_at") + upper)
        buckets[key] = Count("pk", filter=q)
        lower = upper
    extra = (
        percentile_aggregates(first_response_time(), (0.5, 0.9), "p")
        if has_percentile_cont()
        else {}
    )
    row = qs.aggregate(count=Count("pk"), **buckets, **extra)
    if has_percentile_cont():
        median, p90 = row["p_50"], row["p_90"]
    else:
        values = grouped_percentiles(qs, first_response_time(), (0.5, 0.9))[None]
        median, p90 = values[0.5], values[0.9]
    return {
        "count": row["count"],
        "median": median,
        "p90": p90,
        "histogram": {key: row[key] for key, _ in RESPONSE_BUCKETS},
    }


def resolution_summary(filters: DashboardFilters) -> dict[str, Any]:
    """Tickets resolved in the period: median resolution time, FCR %, reopen rate, how
    many of those with a resolution target were resolved within it, and how many were
    redirected elsewhere (outside the line's competence)."""
    qs = tickets_for(filters).filter(resolved_at__gte=filters.start, resolved_at__lt=filters.end)
    extra = percentile_aggregates(resolution_time(), (0.5,), "p") if has_percentile_cont() else {}
    row = qs.aggregate(
        count=Count("pk"),
        fcr=Count("pk", filter=Q(first_contact_resolution=True)),
        reopened=Count("pk", filter=Q(reopened_count__gt=0)),
        # The optional resolution target (regulation 3), counted in the same pass.
        with_target=Count("pk", filter=Q(resolution_due__isnull=False)),
        on_target=Count("pk", filter=Q(resolved_at__lte=F("resolution_due"))),
        # Seed 002 §3.8: redirected elsewhere, not solved by the line: counted apart.
        redirected=Count("pk", filter=Q(outcome=Ticket.Outcome.REDIRECTED)),
        **extra,
    )
    if has_percentile_cont():
        median = row["p_50"]
    else:
        median = grouped_percentiles(qs, resolution_time(), (0.5,))[None][0.5]
    return {
        "count": row["count"],
        "median": median,
        "fcr": row["fcr"],
        "fcr_percent": _percent(row["fcr"], row["count"]),
        "reopened": row["reopened"],
        "reopen_percent": _percent(row["reopened"], row["count"]),
        "with_target": row["with_target"],
        "on_target": row["on_target"],
        "on_target_percent": _percent(row["on_target"], row["with_target"]),
        "redirected": row["redirected"],
        "redirected_percent": _percent(row["redirected"], row["count"]),
    }


def satisfaction_summary(filters: DashboardFilters) -> dict[str, Any]:
    row = SatisfactionResponse.objects.filter(
        created_at__gte=filters.start, created_at__lt=filters.end, **filters.ticket_q("ticket__")
    ).aggregate(
        responses=Count("pk"),
        rated=Count("rating"),
        average=Avg("rating"),
        solved=Count("pk", filter=Q(solved=True)),
    )
    row["average"] = round(row["average"], 2) if row["average"] is not None else None
    row["solved_percent"] = _percent(row["solved"], row["responses"])
    return row


# --- Breakdowns ----------------------------------------------------------------------


def open_by_queue_and_status(
    filters: DashboardFilters, breakdown: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Open tickets per queue, split by status: [{queue_id, name, statuses, total}]."""
    if breakdown is None:
        breakdown = open_breakdown(filters)
    by_queue: dict[int, dict[str, int]] = {}
    for row in breakdown:
        counts = by_queue.setdefault(row["queue_id"], dict.fromkeys(OPEN_STATUSES, 0))
        counts[row["status"]] += row["count"]
    names = dict(Queue.objects.filter(pk__in=by_queue).values_list("pk", "name"))
    result = [
        {
            "queue_id": queue_id,
            "name": names.get(queue_id, str(queue_id)),
            "statuses": counts,
            "total": sum(counts.values()),
        }
        for queue_id, counts in by_queue.items()
    ]
    return sorted(result, key=lambda r: (-r["total"], r["name"]))


def operator_stats(
    filters: DashboardFilters, breakdown: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Per operator: open tickets by status, tickets answered today, median first response
    in the period, CSAT in the period. Operators with nothing to show are left out."""
    tickets = tickets_for(filters)
    if breakdown is None:
        breakdown = open_breakdown(filters)
    answered_rows = (
        Message.objects.filter(
            created_at__gte=filters.today_start,
            author_kind=Message.Author.OPERATOR,
            author__isnull=False,
            is_internal=False,
            **filters.ticket_q("ticket__"),
        )
        .values("author_id")
        .annotate(count=Count("ticket_id", distinct=True))
        .order_by()
    )
    answered_in_period = tickets.filter(
        first_response_at__gte=filters.start,
        first_response_at__lt=filters.end,
        assignee__isnull=False,
    )
    medians = grouped_percentiles(answered_in_period, first_response_time(), (0.5,), "assignee_id")
    csat_rows = (
        SatisfactionResponse.objects.filter(
            created_at__gte=filters.start,
            created_at__lt=filters.end,
            ticket__assignee__isnull=False,
            **filters.ticket_q("ticket__"),
        )
        .values(operator_id=F("ticket__assignee_id"))
        .annotate(average=Avg("rating"), rated=Count("rating"))
        .order_by()
    )
    stats: dict[int, dict[str, Any]] = {}

    def entry(user_id: int) -> dict[str, Any]:
        return stats.setdefault(
            user_id,
            {
                "user_id": user_id,
                "open": 0,
                "statuses": dict.fromkeys(OPEN_STATUSES, 0),
                "answered_today": 0,
                "median_first_response": None,
                "csat": None,
                "csat_count": 0,
            },
        )

    for row in breakdown:
        if row["assignee_id"] is None:
            continue
        item = entry(row["assignee_id"])
        item["statuses"][row["status"]] += row["count"]
        item["open"] += row["count"]
    for row in answered_rows:
        entry(row["author_id"])["answered_today"] = row["count"]
    for user_id, values in medians.items():
        entry(user_id)["median_first_response"] = values[0.5]
    for row in csat_rows:
        item = entry(row["operator_id"])
        item["csat"] = round(row["average"], 2) if row["average"] is not None else None
        item["csat_count"] = row["rated"]
    users = (
        get_user_model()
        .objects.filter(pk__in=stats)
        .only("pk", "username", "first_name", "last_name")
    )
    for user in users:
        stats[user.pk]["name"] = user.get_full_name() or user.get_username()
    for item in stats.values():
        item.setdefault("name", str(item["user_id"]))
    return sorted(stats.values(), key=lambda r: (-r["open"], -r["answered_today"], r["name"]))


def tickets_at_risk(filters: DashboardFilters, limit: int = AT_RISK_LIMIT) -> list[Ticket]:
    """Open tickets still owed a first answer: overdue ones first, then due within 2 h."""
    return list(
        tickets_for(filters)
        .filter(
            status__in=OPEN_STATUSES,
            first_response_at__isnull=True,
            sla_paused_at__isnull=True,
            first_response_due__lt=filters.now + DUE_SOON,
        )
        # The calendar comes along: "time left" is working time (tickets.business_time).
        .select_related("queue__calendar", "assignee")
        .only(
            "pk",
            "number",
            "subject",
            "status",
            "channel",
            "created_at",
            "first_response_due",
            "queue__name",
            "queue__calendar",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
        )
        .order_by("first_response_due", "pk")[:limit]
    )


# --- Everything at once --------------------------------------------------------------


@dataclass
class DashboardData:
    filters: DashboardFilters
    load: dict[str, int]
    sla: dict[str, Any]
    sla_days: dict[date, dict[str, int]]
    created_rows: list[dict[str, Any]]
    responses: dict[str, Any]
    resolution: dict[str, Any]
    satisfaction: dict[str, Any]
    queues: list[dict[str, Any]]
    operators: list[dict[str, Any]]
    at_risk: list[Ticket]
    handle: dict[str, Any] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    reopen_queues: list[dict[str, Any]] = field(default_factory=list)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    series: list[dict[str, Any]] = field(default_factory=list)


def per_day_series(
    filters: DashboardFilters,
    created_rows: list[dict[str, Any]],
    sla_days: dict[date, dict[str, int]],
) -> list[dict[str, Any]]:
    """One row per day of the period: created by channel, SLA decided/met/%."""
    channels = [value for value, _ in Ticket.Channel.choices]
    days = {
        day: {
            "day": day,
            "channels": dict.fromkeys(channels, 0),
            "created": 0,
            "complaints": 0,
            "suggestions": 0,
        }
        for day in filters.days
    }
    for row in created_rows:
        item = days.get(row["day"])
        if item is None:
            continue
        item["channels"][row["channel"]] = item["channels"].get(row["channel"], 0) + row["count"]
        item["created"] += row["count"]
        item["complaints"] += row["complaints"]
        item["suggestions"] += row["suggestions"]
    for day, item in days.items():
        sla = sla_days.get(day, {"total": 0, "met": 0})
        item["sla_total"] = sla["total"]
        item["sla_met"] = sla["met"]
        item["sla_percent"] = _percent(sla["met"], sla["total"])
    return list(days.values())


@transaction.atomic
def dashboard_data(filters: DashboardFilters) -> DashboardData:
    """Every figure of the dashboard, read in one transaction (one consistent snapshot
    on PostgreSQL's repeatable reads is not needed; one connection and one setting are)."""
    if connection.vendor == "postgresql":
        # The percentiles sort a period's worth of rows; keep those sorts in memory.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
    breakdown = open_breakdown(filters)
    sla_days = sla_per_day(filters)
    created_rows = created_per_day(filters)
    data = DashboardData(
        filters=filters,
        load=current_load(filters, breakdown),
        sla=sla_summary(sla_days),
        sla_days=sla_days,
        created_rows=created_rows,
        responses=response_times(filters),
        resolution=resolution_summary(filters),
        satisfaction=satisfaction_summary(filters),
        queues=open_by_queue_and_status(filters, breakdown),
        operators=operator_stats(filters, breakdown),
        at_risk=tickets_at_risk(filters),
        handle=handle_time_summary(filters),
        kinds=created_by_kind(filters),
        reopen_queues=reopen_by_queue(filters),
        sections={section.key: section.figures(filters) for section in dashboard_sections()},
    )
    data.series = per_day_series(filters, created_rows, sla_days)
    data.created = {
        "total": sum(r["count"] for r in created_rows),
        "complaints": sum(r["complaints"] for r in created_rows),
        "suggestions": sum(r["suggestions"] for r in created_rows),
    }
    return data
