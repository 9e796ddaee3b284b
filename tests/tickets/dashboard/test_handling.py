"""Seed 003's metrics on the dashboard: handle time, appeals by type (and the type
filter), reopen rate by queue."""

from tests.factories import TicketFactory
from tests.tickets.dashboard.conftest import NOW, PERIOD, at, make_filters
from tickets.dashboard.handling import created_by_kind, handle_time_summary, reopen_by_queue
from tickets.dashboard.selectors import dashboard_data
from tickets.models import Ticket, TicketEvent

S, E = Ticket.Status, TicketEvent.Kind


def history(ticket, *events) -> None:
    for when, kind, old, new in events:
        TicketEvent.objects.create(
            ticket=ticket, kind=kind, old_value=old, new_value=new, created_at=when
        )


def test_handle_time_runs_from_taking_to_resolving_without_the_pending_stretch(db, queue):
    ticket = TicketFactory(
        queue=queue, created_at=at(9, 8), resolved_at=at(9, 14), status=S.RESOLVED
    )
    history(
        ticket,
        (at(9, 10), E.ASSIGNED, "", "op1"),  # taken: the clock starts
        (at(9, 10, 30), E.STATUS, S.NEW, S.OPEN),
        (at(9, 11), E.STATUS, S.OPEN, S.PENDING),  # waiting for the citizen: 2 h off
        (at(9, 13), E.STATUS, S.PENDING, S.OPEN),
        (at(9, 14), E.STATUS, S.OPEN, S.RESOLVED),
    )

    summary = handle_time_summary(make_filters())

    assert summary["count"] == 1
    assert summary["median"].total_seconds() == 2 * 3600


def test_handle_time_leaves_out_the_time_a_ticket_lay_resolved_before_a_reopen(db, queue):
    ticket = TicketFactory(
        queue=queue, created_at=at(9, 8), resolved_at=at(10, 12), status=S.RESOLVED
    )
    history(
        ticket,
        (at(9, 9), E.STATUS, S.NEW, S.OPEN),  # taken without an assignment event
        (at(9, 10), E.STATUS, S.OPEN, S.RESOLVED),
        (at(10, 11), E.STATUS, S.RESOLVED, S.OPEN),  # "not solved": reopened next day
        (at(10, 12), E.STATUS, S.OPEN, S.RESOLVED),
    )

    assert handle_time_summary(make_filters())["median"].total_seconds() == 2 * 3600


def test_handle_time_median_and_p90_over_the_tickets_resolved_in_the_period(db, queue):
    for hours in (1, 2, 3, 4, 10):
        ticket = TicketFactory(
            queue=queue, created_at=at(9, 0), resolved_at=at(9, hours), status=S.CLOSED
        )
        history(
            ticket,
            (at(9, 0), E.STATUS, S.NEW, S.OPEN),
            (at(9, hours), E.STATUS, S.OPEN, S.RESOLVED),
        )

    summary = handle_time_summary(make_filters())

    assert summary["count"] == 5
    assert summary["median"].total_seconds() == 3 * 3600
    assert summary["p90"].total_seconds() == 7.6 * 3600


def test_appeals_by_type_count_every_type_received_in_the_period(dataset):
    assert created_by_kind(make_filters()) == {
        "question": 1,
        "problem": 0,
        "complaint": 2,
        "suggestion": 1,
    }


def test_type_filter_narrows_every_figure_to_that_type(dataset):
    filters = make_filters(PERIOD + "&kind=complaint")

    data = dashboard_data(filters)

    assert data.kinds == {"question": 0, "problem": 0, "complaint": 2, "suggestion": 0}
    assert data.load["open"] == 1  # G; B, C and F are not complaints
    assert data.resolution["count"] == 1  # D
    assert filters.querystring().endswith("kind=complaint")


def test_reopen_rate_by_queue_counts_the_tickets_resolved_in_the_period(dataset):
    rows = reopen_by_queue(make_filters(now=NOW))

    assert [(r["name"], r["resolved"], r["reopened"], r["percent"]) for r in rows] == [
        (dataset["queue"].name, 3, 1, 33.3)
    ]
