"""Period picker and filters from the query string."""

from datetime import date

from django.http import QueryDict

from tests.tickets.dashboard.conftest import NOW, make_filters
from tickets.dashboard.filters import MAX_DAYS, period_bounds

TODAY = date(2026, 3, 10)


def test_named_periods_end_today():
    assert period_bounds("today", today=TODAY) == (TODAY, TODAY)
    assert period_bounds("7d", today=TODAY) == (date(2026, 3, 4), TODAY)
    assert period_bounds("30d", today=TODAY) == (date(2026, 2, 9), TODAY)


def test_custom_period_is_put_in_order_and_capped():
    assert period_bounds(
        "custom", today=TODAY, date_from=date(2026, 3, 5), date_to=date(2026, 3, 1)
    ) == (date(2026, 3, 1), date(2026, 3, 5))
    first, last = period_bounds(
        "custom", today=TODAY, date_from=date(2020, 1, 1), date_to=date(2026, 1, 1)
    )
    assert (last - first).days == MAX_DAYS - 1


def test_period_is_half_open_in_local_time(db):
    filters = make_filters("period=today")
    assert filters.start.isoformat() == "2026-03-10T00:00:00+03:00"
    assert filters.end.isoformat() == "2026-03-11T00:00:00+03:00"
    assert filters.observed_end == NOW


def test_invalid_values_fall_back_to_defaults(db):
    filters = make_filters("period=bogus&queue=abc&channel=fax&line=first")
    assert (filters.period, filters.queue_id, filters.channel, filters.line) == (
        "7d",
        None,
        "",
        "first",
    )


def test_querystring_round_trips(db, queue):
    qs = f"period=custom&from=2026-03-01&to=2026-03-05&queue={queue.pk}&channel=email"
    filters = make_filters(qs)
    assert make_filters(filters.querystring()) == filters
    assert QueryDict(filters.querystring())["from"] == "2026-03-01"
