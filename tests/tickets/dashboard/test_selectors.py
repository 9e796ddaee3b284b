"""Each dashboard figure on the hand-built data set (see conftest.py for the worked answers)."""

from datetime import date, timedelta

import pytest

from tests.tickets.dashboard.conftest import make_filters
from tickets.dashboard import selectors

H = timedelta(hours=1)


def test_sla_compliance_counts_tickets_decided_in_the_period(filters):
    assert selectors.sla_summary(selectors.sla_per_day(filters)) == {
        "total": 5,
        "met": 3,
        "breached": 2,
        "percent": 60.0,
    }


def test_sla_per_day_groups_by_the_local_day_of_the_outcome(filters):
    assert selectors.sla_per_day(filters) == {date(2026, 3, 9): {"total": 5, "met": 3}}


def test_current_load_counts_open_new_today_breached_and_due_soon(filters):
    assert selectors.current_load(filters) == {
        "open": 4,
        "new_today": 1,
        "breached": 1,
        "due_soon": 1,
        "department_overdue": 0,
    }


def test_first_response_median_and_p90_interpolate_like_percentile_cont(filters):
    responses = selectors.response_times(filters)
    assert responses["count"] == 4
    assert responses["median"] == 12.5 * H
    assert responses["p90"] == 25.1 * H


def test_first_response_histogram_buckets(filters):
    assert selectors.response_times(filters)["histogram"] == {
        "lt1h": 1,
        "1_4h": 1,
        "4_8h": 0,
        "8_24h": 1,
        "gt24h": 1,
    }


def test_resolution_median_fcr_and_reopen_rate_over_tickets_resolved_in_the_period(filters):
    assert selectors.resolution_summary(filters) == {
        "count": 3,
        "median": 24 * H,
        "fcr": 1,
        "fcr_percent": 33.3,
        "reopened": 1,
        "reopen_percent": 33.3,
        "with_target": 0,
        "on_target": 0,
        "on_target_percent": None,
        "redirected": 0,
        "redirected_percent": 0.0,
    }


def test_csat_averages_ratings_received_in_the_period(filters):
    assert selectors.satisfaction_summary(filters) == {
        "responses": 4,
        "rated": 3,
        "average": 4.0,
        "solved": 3,
        "solved_percent": 75.0,
    }


def test_complaints_and_suggestions_are_counted_apart(filters):
    data = selectors.dashboard_data(filters)
    assert data.created == {"total": 4, "complaints": 2, "suggestions": 1}


def test_per_day_series_has_every_day_with_channels_and_sla(filters):
    series = selectors.dashboard_data(filters).series
    assert [row["day"] for row in series] == [date(2026, 3, 9), date(2026, 3, 10)]
    first, second = series
    assert first["channels"] == {"web": 1, "email": 1, "phone": 1, "chat": 0, "api": 0}
    assert (first["created"], first["sla_total"], first["sla_met"], first["sla_percent"]) == (
        3,
        5,
        3,
        60.0,
    )
    assert second["channels"]["chat"] == 1
    assert second["sla_percent"] is None


def test_open_tickets_by_queue_and_status(dataset, filters):
    rows = selectors.open_by_queue_and_status(filters)
    assert [(r["name"], r["statuses"], r["total"]) for r in rows] == [
        ("Сайт Навигатора", {"new": 1, "open": 2, "pending": 0}, 3),
        ("Система бронирования", {"new": 1, "open": 0, "pending": 0}, 1),
    ]


def test_operator_stats(dataset, filters):
    rows = {row["name"]: row for row in selectors.operator_stats(filters)}
    op1, op2 = rows["Ольга Первая"], rows["Пётр Второй"]
    assert (op1["open"], op1["answered_today"], op1["csat"], op1["csat_count"]) == (0, 0, 4.5, 2)
    assert op1["median_first_response"] == 11.75 * H
    assert (op2["open"], op2["answered_today"], op2["csat"], op2["csat_count"]) == (2, 2, 3.0, 1)
    assert op2["statuses"] == {"new": 1, "open": 1, "pending": 0}
    assert op2["median_first_response"] == 14 * H


def test_at_risk_lists_overdue_first_then_due_soon(dataset, filters):
    tickets = selectors.tickets_at_risk(filters)
    assert [t.pk for t in tickets] == [dataset["tickets"]["C"].pk, dataset["tickets"]["G"].pk]


def test_queue_filter_narrows_every_figure(dataset):
    filters = make_filters(
        f"period=custom&from=2026-03-09&to=2026-03-10&queue={dataset['queue'].pk}"
    )
    assert selectors.current_load(filters)["due_soon"] == 0
    assert selectors.dashboard_data(filters).created["complaints"] == 1


def test_channel_filter_narrows_every_figure(dataset):
    filters = make_filters("period=custom&from=2026-03-09&to=2026-03-10&channel=email")
    assert selectors.resolution_summary(filters)["count"] == 1
    assert selectors.satisfaction_summary(filters)["average"] == 3.0


def test_empty_period_has_no_percentages(dataset):
    filters = make_filters("period=custom&from=2025-01-01&to=2025-01-02")
    assert selectors.sla_summary(selectors.sla_per_day(filters))["percent"] is None
    assert selectors.response_times(filters)["median"] is None
    assert selectors.resolution_summary(filters)["fcr_percent"] is None
    assert selectors.satisfaction_summary(filters)["average"] is None


@pytest.mark.postgres
def test_postgres_percentiles_use_percentile_cont(filters, django_assert_num_queries):
    with django_assert_num_queries(1):
        selectors.response_times(filters)
