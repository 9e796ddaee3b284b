"""The chats' figures on the supervisor dashboard: how long citizens waited for an
operator (start → accepted), median and 90th percentile, and how citizens rated the chats
(average and count). Registered as a dashboard section (tickets never imports chat)."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q
from django.utils import formats
from django.utils.translation import gettext as _

from chat.models import ChatSession
from tickets.dashboard.filters import DashboardFilters
from tickets.dashboard.percentiles import grouped_percentiles
from tickets.dashboard.sections import DashboardSection


def chat_waiting_summary(filters: DashboardFilters) -> dict[str, Any]:
    """Chats started in the period: how many, how many an operator accepted, the wait
    of those (p50, p90), and the citizens' ratings of them (count, average; in the same
    query). The dashboard's ticket filters apply to each chat's ticket."""
    sessions = ChatSession.objects.filter(
        started_at__gte=filters.start, started_at__lt=filters.end, **filters.ticket_q("ticket__")
    ).order_by()
    row = sessions.aggregate(
        started=Count("pk"),
        accepted=Count("pk", filter=Q(accepted_at__isnull=False)),
        rated=Count("rating"),
        rating_average=Avg("rating"),
    )
    if row["rating_average"] is not None:
        row["rating_average"] = round(float(row["rating_average"]), 2)
    waited = ExpressionWrapper(F("accepted_at") - F("started_at"), output_field=DurationField())
    values = grouped_percentiles(sessions.filter(accepted_at__isnull=False), waited, (0.5, 0.9))
    values = values.get(None, {0.5: None, 0.9: None})
    return {**row, "median": values[0.5], "p90": values[0.9]}


def chat_waiting_tiles(figures: dict[str, Any]) -> list[dict[str, str]]:
    from tickets.dashboard.presenters import format_duration

    return [
        {
            "key": "chat_wait_median",
            "label": _("Median chat wait"),
            "value": format_duration(figures["median"]),
            "hint": _("90th percentile %(p90)s · %(accepted)s of %(started)s chats accepted")
            % {
                "p90": format_duration(figures["p90"]),
                "accepted": figures["accepted"],
                "started": figures["started"],
            },
            "state": "",
        },
        {
            "key": "chat_rating",
            "label": _("Chat rating"),
            "value": "—"
            if figures.get("rating_average") is None
            else f"{formats.number_format(figures['rating_average'], 2)} / 5",
            "hint": _("ratings: %(rated)s · chats accepted: %(accepted)s")
            % {"rated": figures.get("rated", 0), "accepted": figures["accepted"]},
            "state": "",
        },
    ]


def chat_waiting_metrics(figures: dict[str, Any]) -> dict[str, Any]:
    from tickets.dashboard.presenters import minutes

    return {
        "started": figures["started"],
        "accepted": figures["accepted"],
        "median_minutes": minutes(figures["median"]),
        "p90_minutes": minutes(figures["p90"]),
        "rated": figures.get("rated", 0),
        "rating_average": figures.get("rating_average"),
    }


def register() -> None:
    from tickets.dashboard.sections import dashboard_section_register

    dashboard_section_register(
        DashboardSection(
            key="chat_wait",
            figures=chat_waiting_summary,
            tiles=chat_waiting_tiles,
            metrics=chat_waiting_metrics,
        )
    )
