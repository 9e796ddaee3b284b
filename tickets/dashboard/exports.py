"""CSV exports of the dashboard's tables and per-day series (same period and filters).

UTF-8 with a byte-order mark and `;` between fields, decimals in the active language's
format: what Excel with Russian regional settings opens without an import wizard.
Written through helpdesk.csv_export, which defuses text a spreadsheet would run as a
formula (subjects, names); formatted numbers are marked as `Figure`s so they stay numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

from django.utils import formats
from django.utils.translation import gettext as _

from helpdesk.csv_export import Figure, csv_writer
from tickets.dashboard.filters import DashboardFilters
from tickets.dashboard.panels import dashboard_panel_csv
from tickets.dashboard.presenters import minutes
from tickets.dashboard.selectors import (
    OPEN_STATUSES,
    created_per_day,
    open_by_queue_and_status,
    operator_stats,
    per_day_series,
    sla_per_day,
    tickets_at_risk,
)
from tickets.models import Ticket

BOM = "\ufeff"
EXPORT_LIMIT = 10_000


def _number(value: float | None) -> str:
    return "" if value is None else Figure(formats.number_format(value, 1))


def series_rows(filters: DashboardFilters) -> Iterable[list]:
    channels = Ticket.Channel.choices
    yield [
        _("Date"),
        _("Received"),
        *[str(label) for _value, label in channels],
        _("Complaints"),
        _("Suggestions"),
        _("Deadlines decided"),
        _("Answered in time"),
        _("SLA compliance, %"),
    ]
    for row in per_day_series(filters, created_per_day(filters), sla_per_day(filters)):
        yield [
            row["day"].isoformat(),
            row["created"],
            *[row["channels"][value] for value, _label in channels],
            row["complaints"],
            row["suggestions"],
            row["sla_total"],
            row["sla_met"],
            _number(row["sla_percent"]),
        ]


def at_risk_rows(filters: DashboardFilters) -> Iterable[list]:
    yield [
        _("Number"),
        _("Subject"),
        _("Queue"),
        _("Assignee"),
        _("Status"),
        _("Created"),
        _("First answer due"),
        _("Minutes left (negative: overdue)"),
    ]
    for ticket in tickets_at_risk(filters, limit=EXPORT_LIMIT):
        assignee = ticket.assignee
        yield [
            ticket.reference,
            ticket.subject,
            ticket.queue.name,
            (assignee.get_full_name() or assignee.get_username()) if assignee else "",
            ticket.get_status_display(),
            formats.date_format(ticket.created_at, "Y-m-d H:i"),
            formats.date_format(ticket.first_response_due, "Y-m-d H:i"),
            _number(minutes(ticket.first_response_due - filters.now)),
        ]


def operator_rows(filters: DashboardFilters) -> Iterable[list]:
    yield [
        _("Operator"),
        _("Open"),
        *[str(Ticket.Status(status).label) for status in OPEN_STATUSES],
        _("Answered today"),
        _("Median first response, min"),
        _("CSAT"),
        _("Ratings"),
    ]
    for row in operator_stats(filters):
        yield [
            row["name"],
            row["open"],
            *[row["statuses"][status] for status in OPEN_STATUSES],
            row["answered_today"],
            _number(minutes(row["median_first_response"])),
            _number(row["csat"]),
            row["csat_count"],
        ]


def queue_rows(filters: DashboardFilters) -> Iterable[list]:
    yield [
        _("Queue"),
        _("Open"),
        *[str(Ticket.Status(status).label) for status in OPEN_STATUSES],
    ]
    for row in open_by_queue_and_status(filters):
        yield [row["name"], row["total"], *[row["statuses"][s] for s in OPEN_STATUSES]]


def summary_rows(filters: DashboardFilters) -> Iterable[list]:
    from tickets.dashboard.presenters import tiles
    from tickets.dashboard.selectors import dashboard_data

    yield [_("Figure"), _("Value"), _("Note")]
    for tile in tiles(dashboard_data(filters)):
        yield [tile["label"], tile["value"], tile["hint"]]


EXPORTS: dict[str, Callable[[DashboardFilters], Iterable[list]]] = {
    "series": series_rows,
    "at-risk": at_risk_rows,
    "operators": operator_rows,
    "queues": queue_rows,
    "summary": summary_rows,
}


def export_rows(name: str) -> Callable[[DashboardFilters], Iterable[list]] | None:
    """The rows of export `name`: one of EXPORTS or a panel's CSV (telephony's phone line);
    None for an unknown name."""
    return EXPORTS.get(name) or dashboard_panel_csv(name)


def export_csv(name: str, filters: DashboardFilters) -> str:
    """The CSV text of export `name` (see export_rows; KeyError if unknown), BOM included."""
    rows = export_rows(name)
    if rows is None:
        raise KeyError(name)
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv_writer(buffer)
    writer.writerows(rows(filters))
    return buffer.getvalue()
