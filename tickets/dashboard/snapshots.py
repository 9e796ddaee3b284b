"""Dashboard figures shared between requests, and kept warm by beat.

Computing every aggregate takes a while on a large database (see bench/README.md), and
each supervisor's page asks again every minute. The figures (`DashboardData`, language
independent) are cached per period and filters; `dashboard_snapshots_refresh()` — run by
beat every minute — recomputes the standard views (today, 7 and 30 days, no filters), and
the panels' figures of other apps for them, so that they are always served from the cache.
Other filter sets are computed on first use and cached for `DASHBOARD_CACHE_SECONDS`.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tickets.dashboard.filters import DashboardFilterForm, DashboardFilters, Period
from tickets.dashboard.panels import dashboard_panels_warm
from tickets.dashboard.selectors import DashboardData, dashboard_data

# Longer than the beat interval (60 s), so a warmed view never expires between runs.
WARM_SECONDS = 150
STANDARD_PERIODS = (Period.TODAY, Period.WEEK, Period.MONTH)


def snapshot_key(filters: DashboardFilters) -> str:
    # The days are part of the key: "7d" means other dates after midnight.
    return (
        f"dashboard:data:v2:{filters.querystring()}:"
        f"{filters.first_day.isoformat()}:{filters.last_day.isoformat()}"
    )


def dashboard_data_cached(filters: DashboardFilters) -> DashboardData:
    """The figures for `filters`, at most `DASHBOARD_CACHE_SECONDS` old (beat-warmed
    standard views: at most about a minute old)."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return dashboard_data(filters)
    key = snapshot_key(filters)
    data = cache.get(key)
    if data is None or filters.now - data.filters.now > timedelta(seconds=WARM_SECONDS):
        data = dashboard_data(filters)
        cache.set(key, data, seconds)
    return data


def dashboard_snapshots_refresh() -> list[str]:
    """Recompute and cache the standard views; returns their cache keys."""
    now = timezone.now()
    keys = []
    for period in STANDARD_PERIODS:
        form = DashboardFilterForm({"period": period})
        filters = form.filters(now=now)
        key = snapshot_key(filters)
        cache.set(key, dashboard_data(filters), WARM_SECONDS)
        dashboard_panels_warm(filters, seconds=WARM_SECONDS)
        keys.append(key)
    return keys
