"""Turn the dashboard's figures into what people see: tiles, SVG charts, table fragments.

The page and the JSON endpoint share `dashboard_payload()`, so an auto-refresh shows
exactly what a reload would.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets.business_time import working_time
from tickets.dashboard import charts
from tickets.dashboard.filters import DashboardFilters
from tickets.dashboard.sections import dashboard_sections
from tickets.dashboard.selectors import OPEN_STATUSES, RESPONSE_BUCKETS, DashboardData
from tickets.dashboard.snapshots import dashboard_data_cached
from tickets.models import Ticket

CHANNEL_COLORS = {"web": "#0b5cad", "email": "#7a4fd1", "phone": "#e08a00", "chat": "#1e9e8a"}
STATUS_COLORS = {"new": "#0b5cad", "open": "#f08c00", "pending": "#adb5bd"}
KIND_COLORS = {
    "question": "#0b5cad",
    "problem": "#e08a00",
    "complaint": "#b3261e",
    "suggestion": "#1e9e8a",
}
BUCKET_COLORS = ["#1e7a3c", "#5c9e31", "#e0a800", "#f08c00", "#b3261e"]


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


def format_percent(value: float | None) -> str:
    return "—" if value is None else f"{formats.number_format(value, 1)} %"


def minutes(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 60, 1)


def day_label(day: date) -> str:
    return formats.date_format(day, "d.m")


def period_label(filters: DashboardFilters) -> str:
    first = formats.date_format(filters.first_day, "j E Y")
    if filters.first_day == filters.last_day:
        return first
    return f"{first} — {formats.date_format(filters.last_day, 'j E Y')}"


def response_bucket_labels() -> list[str]:
    return [_("< 1 h"), _("1–4 h"), _("4–8 h"), _("8–24 h"), _("> 24 h")]


def sla_state(percent: float | None) -> str:
    target = settings.DASHBOARD_SLA_TARGET_PERCENT
    if percent is None:
        return ""
    if percent >= target:
        return "ok"
    return "warn" if percent >= target - 10 else "bad"


def tiles(data: DashboardData) -> list[dict[str, str]]:
    target = settings.DASHBOARD_SLA_TARGET_PERCENT
    load, sla, resp, res, csat = (
        data.load,
        data.sla,
        data.responses,
        data.resolution,
        data.satisfaction,
    )
    csat_value = "—" if csat["average"] is None else f"{formats.number_format(csat['average'], 2)}"
    return [
        {
            "key": "open",
            "label": _("Open tickets"),
            "value": str(load["open"]),
            "hint": _("new, in progress or waiting, now"),
            "state": "",
        },
        {
            "key": "new_today",
            "label": _("New today"),
            "value": str(load["new_today"]),
            "hint": _("%(count)s received in the period") % {"count": data.created["total"]},
            "state": "",
        },
        {
            "key": "breached",
            "label": _("Breached now"),
            "value": str(load["breached"]),
            "hint": _("unanswered past the deadline"),
            "state": "bad" if load["breached"] else "ok",
        },
        {
            "key": "due_soon",
            "label": _("Due within 2 h"),
            "value": str(load["due_soon"]),
            "hint": _("still unanswered"),
            "state": "warn" if load["due_soon"] else "ok",
        },
        {
            "key": "department_overdue",
            "label": _("Past the department deadline"),
            "value": str(load["department_overdue"]),
            "hint": _("escalated, still open after the department's deadline"),
            "state": "bad" if load["department_overdue"] else "ok",
        },
        {
            "key": "sla",
            "label": _("SLA compliance"),
            "value": format_percent(sla["percent"]),
            "hint": _("%(met)s of %(total)s answered in time · target %(target)s %%")
            % {"met": sla["met"], "total": sla["total"], "target": target},
            "state": sla_state(sla["percent"]),
        },
        {
            "key": "frt_median",
            "label": _("Median first response"),
            "value": format_duration(resp["median"]),
            "hint": ngettext(
                "%(count)s ticket answered", "%(count)s tickets answered", resp["count"]
            )
            % {"count": resp["count"]},
            "state": "",
        },
        {
            "key": "frt_p90",
            "label": _("90th percentile first response"),
            "value": format_duration(resp["p90"]),
            "hint": _("9 of 10 answers came faster"),
            "state": "",
        },
        {
            "key": "resolution_median",
            "label": _("Median resolution time"),
            "value": format_duration(res["median"]),
            "hint": ngettext(
                "%(count)s ticket resolved", "%(count)s tickets resolved", res["count"]
            )
            % {"count": res["count"]},
            "state": "",
        },
        {
            "key": "resolution_target",
            "label": _("Resolved within the target"),
            "value": format_percent(res["on_target_percent"]),
            "hint": _("%(met)s of %(total)s with a resolution target")
            % {"met": res["on_target"], "total": res["with_target"]},
            "state": sla_state(res["on_target_percent"]),
        },
        {
            "key": "fcr",
            "label": _("First-contact resolution"),
            "value": format_percent(res["fcr_percent"]),
            "hint": _("%(part)s of %(total)s resolved")
            % {"part": res["fcr"], "total": res["count"]},
            "state": "",
        },
        {
            "key": "reopen",
            "label": _("Reopen rate"),
            "value": format_percent(res["reopen_percent"]),
            "hint": _("%(part)s of %(total)s resolved")
            % {"part": res["reopened"], "total": res["count"]},
            "state": "",
        },
        {
            "key": "redirected",
            "label": _("Redirected (outside our competence)"),
            "value": str(res["redirected"]),
            "hint": _("%(percent)s of %(total)s resolved")
            % {"percent": format_percent(res["redirected_percent"]), "total": res["count"]},
            "state": "",
        },
        {
            "key": "handle_median",
            "label": _("Median handle time"),
            "value": format_duration(data.handle["median"]),
            "hint": _("90th percentile %(p90)s · %(count)s resolved")
            % {"p90": format_duration(data.handle["p90"]), "count": data.handle["count"]},
            "state": "",
        },
        {
            "key": "csat",
            "label": _("Satisfaction (CSAT)"),
            "value": csat_value + (" / 5" if csat["average"] is not None else ""),
            "hint": _("%(count)s ratings · solved %(solved)s")
            % {"count": csat["rated"], "solved": format_percent(csat["solved_percent"])},
            "state": "",
        },
        {
            "key": "complaints",
            "label": _("Complaints"),
            "value": str(data.created["complaints"]),
            "hint": _("received in the period"),
            "state": "",
        },
        {
            "key": "suggestions",
            "label": _("Suggestions"),
            "value": str(data.created["suggestions"]),
            "hint": _("received in the period"),
            "state": "",
        },
    ] + [
        tile
        for section in dashboard_sections()
        if section.key in data.sections
        for tile in section.tiles(data.sections[section.key])
    ]


def chart_svgs(data: DashboardData) -> dict[str, str]:
    labels = [day_label(row["day"]) for row in data.series]
    channel_series = [
        charts.Series(value, str(label), CHANNEL_COLORS.get(value, "#888"))
        for value, label in Ticket.Channel.choices
    ]
    status_series = [
        charts.Series(value, str(Ticket.Status(value).label), STATUS_COLORS[value])
        for value in OPEN_STATUSES
    ]
    target = settings.DASHBOARD_SLA_TARGET_PERCENT
    operators = [row for row in data.operators if row["open"]][:15]
    return {
        "per_day": charts.stacked_columns(
            chart_id="chart-per-day",
            title=_("Tickets per day by channel"),
            description=_("Tickets received each day of the period, stacked by channel."),
            labels=labels,
            series=channel_series,
            values=[row["channels"] for row in data.series],
            y_label=_("tickets"),
            empty_message=_("No tickets in the period"),
            width=1300,
            height=300,
        ),
        "sla": charts.percent_line(
            chart_id="chart-sla",
            title=_("SLA compliance per day"),
            description=_(
                "Share of tickets answered within the deadline, by the day the outcome was known."
            ),
            labels=labels,
            values=[row["sla_percent"] for row in data.series],
            counts=[row["sla_total"] for row in data.series],
            target=target,
            line_label=_("answered in time, %"),
            target_label=_("target %(target)s %%") % {"target": target},
            empty_message=_("No deadlines fell in the period"),
        ),
        "response": charts.columns(
            chart_id="chart-response",
            title=_("First-response time"),
            description=_("How long citizens waited for the first answer, in the period."),
            labels=response_bucket_labels(),
            values=[data.responses["histogram"][key] for key, _unused in RESPONSE_BUCKETS],
            colors=BUCKET_COLORS,
            empty_message=_("No first answers in the period"),
        ),
        "queues": charts.stacked_rows(
            chart_id="chart-queues",
            title=_("Open tickets by queue and status"),
            description=_("Tickets not yet resolved, per queue, split by status."),
            labels=[row["name"] for row in data.queues],
            series=status_series,
            values=[row["statuses"] for row in data.queues],
            empty_message=_("No open tickets"),
        ),
        "kinds": charts.columns(
            chart_id="chart-kinds",
            title=_("Appeals by type"),
            description=_(
                "Appeals received in the period: questions, problems, complaints, suggestions."
            ),
            labels=[str(label) for _value, label in Ticket.Kind.choices],
            values=[data.kinds.get(value, 0) for value in Ticket.Kind.values],
            colors=[KIND_COLORS.get(value, "#888") for value in Ticket.Kind.values],
            empty_message=_("No appeals in the period"),
        ),
        "reopen_queues": charts.stacked_rows(
            chart_id="chart-reopen-queues",
            title=_("Reopen rate by queue"),
            description=_(
                "Tickets resolved in the period per queue: reopened at least once, and the rest."
            ),
            labels=[row["name"] for row in data.reopen_queues],
            end_labels=[
                f"{format_percent(row['percent'])} ({row['reopened']}/{row['resolved']})"
                for row in data.reopen_queues
            ],
            series=[
                charts.Series("reopened", _("reopened"), "#b3261e"),
                charts.Series("kept", _("not reopened"), "#adb5bd"),
            ],
            values=[
                {"reopened": row["reopened"], "kept": row["resolved"] - row["reopened"]}
                for row in data.reopen_queues
            ],
            empty_message=_("No tickets resolved in the period"),
        ),
        "operators": charts.stacked_rows(
            chart_id="chart-operators",
            title=_("Load per operator"),
            description=_("Open tickets assigned to each operator, split by status."),
            labels=[row["name"] for row in operators],
            series=status_series,
            values=[row["statuses"] for row in operators],
            empty_message=_("No open tickets are assigned"),
        ),
    }


def time_left(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """Overdue in wall-clock time, time left in working time (the queue's calendar)."""
    delta = ticket.first_response_due - now
    if delta.total_seconds() < 0:
        return {
            "overdue": True,
            "text": _("overdue by %(time)s") % {"time": format_duration(-delta)},
        }
    left = working_time(ticket.queue).between(now, ticket.first_response_due)
    return {"overdue": False, "text": _("%(time)s left") % {"time": format_duration(left)}}


def at_risk_rows(data: DashboardData) -> list[dict[str, Any]]:
    return [
        {
            "ticket": ticket,
            "assignee": (ticket.assignee.get_full_name() or ticket.assignee.get_username())
            if ticket.assignee
            else "",
            "due": timezone.localtime(ticket.first_response_due),
            **time_left(ticket, data.filters.now),
        }
        for ticket in data.at_risk
    ]


def operator_rows(data: DashboardData) -> list[dict[str, Any]]:
    return [
        {**row, "median_display": format_duration(row["median_first_response"])}
        for row in data.operators
    ]


def dashboard_payload(filters: DashboardFilters) -> dict[str, Any]:
    """Everything the page shows, as strings and numbers (JSON-ready)."""
    data = dashboard_data_cached(filters)
    filters = data.filters
    context = {"at_risk": at_risk_rows(data), "operators": operator_rows(data), "filters": filters}
    return {
        "generated_at": filters.now.isoformat(),
        "generated_label": formats.date_format(timezone.localtime(filters.now), "H:i"),
        "period": {
            "from": filters.first_day.isoformat(),
            "to": filters.last_day.isoformat(),
            "label": period_label(filters),
        },
        "metrics": metrics(data),
        "tiles": tiles(data),
        "charts": {key: str(svg) for key, svg in chart_svgs(data).items()},
        "tables": {
            "at_risk": render_to_string("dashboard/_at_risk.html", context),
            "operators": render_to_string("dashboard/_operators.html", context),
        },
    }


def metrics(data: DashboardData) -> dict[str, Any]:
    """The raw figures (durations in minutes) for machines: the JSON endpoint."""
    return {
        "open": data.load["open"],
        "new_today": data.load["new_today"],
        "breached_now": data.load["breached"],
        "due_within_2h": data.load["due_soon"],
        "department_overdue": data.load["department_overdue"],
        "created": data.created["total"],
        "complaints": data.created["complaints"],
        "suggestions": data.created["suggestions"],
        "sla": data.sla,
        "first_response": {
            "count": data.responses["count"],
            "median_minutes": minutes(data.responses["median"]),
            "p90_minutes": minutes(data.responses["p90"]),
            "histogram": data.responses["histogram"],
        },
        "resolution": {
            "count": data.resolution["count"],
            "median_minutes": minutes(data.resolution["median"]),
            "fcr_percent": data.resolution["fcr_percent"],
            "reopen_percent": data.resolution["reopen_percent"],
            "on_target_percent": data.resolution["on_target_percent"],
            "redirected": data.resolution["redirected"],
        },
        "handle": {
            "count": data.handle["count"],
            "median_minutes": minutes(data.handle["median"]),
            "p90_minutes": minutes(data.handle["p90"]),
        },
        "kinds": data.kinds,
        "reopen_by_queue": [
            {key: row[key] for key in ("queue_id", "name", "resolved", "reopened", "percent")}
            for row in data.reopen_queues
        ],
        **{
            section.key: section.metrics(data.sections[section.key])
            for section in dashboard_sections()
            if section.key in data.sections
        },
        "csat": {
            "average": data.satisfaction["average"],
            "rated": data.satisfaction["rated"],
            "responses": data.satisfaction["responses"],
            "solved_percent": data.satisfaction["solved_percent"],
        },
        "series": [
            {
                "day": row["day"].isoformat(),
                "created": row["created"],
                "channels": row["channels"],
                "sla_total": row["sla_total"],
                "sla_met": row["sla_met"],
                "sla_percent": row["sla_percent"],
            }
            for row in data.series
        ],
    }
