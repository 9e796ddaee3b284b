"""Beat keeps the standard dashboard views warm; other filter sets are cached on first use."""

from django.urls import reverse

from tickets.dashboard.filters import DashboardFilterForm
from tickets.dashboard.snapshots import dashboard_data_cached, snapshot_key
from tickets.dashboard.tasks import dashboard_refresh_task

AUTH_QUERIES = 4


def test_refresh_task_warms_today_7_and_30_days(db, settings):
    settings.DASHBOARD_CACHE_SECONDS = 30
    assert dashboard_refresh_task.delay().get() == 3


def test_warmed_view_is_served_without_aggregate_queries(
    client, supervisor, dataset, settings, django_assert_num_queries
):
    settings.DASHBOARD_CACHE_SECONDS = 30
    dashboard_refresh_task()
    client.force_login(supervisor)
    with django_assert_num_queries(AUTH_QUERIES - 2):  # a superuser needs no permission look-up
        response = client.get(reverse("dashboard:data") + "?period=30d")
    assert response.json()["metrics"]["created"] >= 0


def test_cached_figures_are_recomputed_when_the_cache_is_off(dataset, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    filters = DashboardFilterForm({"period": "7d"}).filters()
    assert dashboard_data_cached(filters).filters.now == filters.now


def test_snapshot_key_changes_with_the_filters_and_the_days(dataset):
    week = DashboardFilterForm({"period": "7d"}).filters()
    queue = DashboardFilterForm({"period": "7d", "queue": dataset["queue"].pk}).filters()
    assert snapshot_key(week) != snapshot_key(queue)
    assert week.first_day.isoformat() in snapshot_key(week)
