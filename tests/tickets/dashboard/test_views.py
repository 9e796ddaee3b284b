"""The dashboard's page, JSON endpoint and CSV exports: access, content, query count."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from tests.factories import QueueFactory, TicketFactory, UserFactory
from tests.tickets.dashboard.conftest import NOW, PERIOD

INDEX = reverse("dashboard:index")
DATA = reverse("dashboard:data")


@pytest.fixture
def chief(db):
    user = UserFactory(username="chief", first_name="Вера", last_name="Начальникова")
    user.user_permissions.add(Permission.objects.get(codename="supervise"))
    return user


@pytest.fixture
def frozen_now():
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield NOW


def export_url(name):
    return reverse("dashboard:export", args=[name]) + "?" + PERIOD


def read_csv(response):
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_anonymous_is_sent_to_the_login_page(client, db):
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_without_the_supervise_permission_get_403(client, operator):
    client.force_login(operator)
    assert client.get(INDEX).status_code == 403
    assert client.get(DATA).status_code == 403
    assert client.get(export_url("series")).status_code == 403


def test_non_staff_user_with_the_permission_gets_403(client, chief):
    chief.is_staff = False
    chief.save(update_fields=["is_staff"])
    client.force_login(chief)
    assert client.get(INDEX).status_code == 403


def test_staff_with_the_supervise_permission_see_the_dashboard(client, chief):
    client.force_login(chief)
    response = client.get(INDEX)
    assert response.status_code == 200
    assert "Панель SLA" in response.content.decode()


def test_superuser_sees_the_dashboard(client, supervisor):
    client.force_login(supervisor)
    assert client.get(INDEX).status_code == 200


def test_page_shows_tiles_charts_and_at_risk_tickets(client, chief, dataset, frozen_now):
    client.force_login(chief)
    html = client.get(INDEX + "?" + PERIOD).content.decode()
    assert 'data-tile="sla"' in html and "60,0 %" in html
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 7
    assert "Обращения по дням и каналам" in html
    ticket_c = dataset["tickets"]["C"]
    assert reverse("admin:tickets_ticket_change", args=[ticket_c.pk]) in html
    assert "просрочено на 19 ч 00 мин" in html


def test_page_renders_in_english(client, chief, dataset, frozen_now):
    client.force_login(chief)
    html = client.get(INDEX + "?" + PERIOD, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "SLA compliance" in html and "Tickets per day by channel" in html


def test_json_endpoint_has_the_same_figures_as_the_page(client, chief, dataset, frozen_now):
    client.force_login(chief)
    data = client.get(DATA + "?" + PERIOD).json()
    assert set(data) == {
        "generated_at",
        "generated_label",
        "period",
        "metrics",
        "tiles",
        "panels",
        "charts",
        "tables",
    }
    assert data["period"]["from"] == "2026-03-09" and data["period"]["to"] == "2026-03-10"
    assert data["metrics"]["sla"] == {"total": 5, "met": 3, "breached": 2, "percent": 60.0}
    assert data["metrics"]["first_response"]["median_minutes"] == 750.0
    assert data["metrics"]["first_response"]["p90_minutes"] == 1506.0
    assert data["metrics"]["csat"]["average"] == 4.0
    assert {tile["key"] for tile in data["tiles"]} >= {"open", "sla", "breached", "csat", "fcr"}
    assert set(data["charts"]) == {
        "per_day",
        "sla",
        "response",
        "queues",
        "kinds",
        "reopen_queues",
        "operators",
    }
    assert all(svg.startswith("<svg") for svg in data["charts"].values())
    assert "SP-" in data["tables"]["at_risk"]


def test_series_csv_has_a_row_per_day_with_channels_and_sla(client, chief, dataset, frozen_now):
    client.force_login(chief)
    response = client.get(export_url("series"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:2] == ["Дата", "Поступило"]
    # received, then per channel (web, e-mail, phone, chat, API), then the SLA columns
    assert rows[1] == ["2026-03-09", "3", "1", "1", "1", "0", "0", "2", "1", "5", "3", "60,0"]
    assert rows[2][0] == "2026-03-10" and rows[2][1] == "1"
    assert len(rows) == 3


def test_at_risk_csv_lists_overdue_then_due_soon(client, chief, dataset, frozen_now):
    client.force_login(chief)
    rows = read_csv(client.get(export_url("at-risk")))
    t = dataset["tickets"]
    assert [row[0] for row in rows[1:]] == [t["C"].reference, t["G"].reference]
    assert rows[1][1] == "Просрочено"
    assert rows[1][-1] == "-1140,0"
    assert rows[2][-1] == "60,0"


def test_operators_csv(client, chief, dataset, frozen_now):
    client.force_login(chief)
    rows = {row[0]: row for row in read_csv(client.get(export_url("operators")))[1:]}
    assert rows["Пётр Второй"] == ["Пётр Второй", "2", "1", "1", "0", "2", "840,0", "3,0", "1"]
    assert rows["Ольга Первая"][-2:] == ["4,5", "2"]


def test_queues_and_summary_csv(client, chief, dataset, frozen_now):
    client.force_login(chief)
    queues = read_csv(client.get(export_url("queues")))
    assert queues[1] == ["Сайт Навигатора", "3", "1", "2", "0"]
    summary = {row[0]: row[1] for row in read_csv(client.get(export_url("summary")))[1:]}
    assert summary["Соблюдение SLA"] == "60,0 %"
    assert summary["Жалобы"] == "2"


def test_unknown_export_is_404(client, chief):
    client.force_login(chief)
    assert client.get(reverse("dashboard:export", args=["nope"])).status_code == 404


# Session, user and two permission look-ups come first; then one query per aggregate.
# SQLite has no percentile_cont: first-response and resolution percentiles cost
# one window query each.
AUTH_QUERIES = 4


def aggregate_queries():
    # 19 aggregates (21 on SQLite, see above; handle time, types, reopen by queue, the
    # chats' waiting time and the department deadlines included), and the savepoint pair
    # of the reading transaction inside the test's own; PostgreSQL also sets work_mem.
    return 19 + 2 + 1 if connection.vendor == "postgresql" else 21 + 2


def test_dashboard_query_count_is_pinned(
    client, chief, dataset, frozen_now, settings, django_assert_num_queries
):
    settings.DASHBOARD_CACHE_SECONDS = 0
    client.force_login(chief)
    # The page also lists the queues for the filter, and the panels of other apps add
    # theirs (telephony's phone figures: 2, tickets/dashboard/panels.py), on the page and
    # in the JSON the auto-refresh reads.
    with django_assert_num_queries(AUTH_QUERIES + aggregate_queries() + 1 + 2):
        assert client.get(INDEX + "?" + PERIOD).status_code == 200
    with django_assert_num_queries(AUTH_QUERIES + aggregate_queries() + 2):
        assert client.get(DATA + "?" + PERIOD).status_code == 200


def test_query_count_does_not_grow_with_tickets_or_operators(
    client, chief, dataset, frozen_now, settings, django_assert_num_queries
):
    settings.DASHBOARD_CACHE_SECONDS = 0
    for i in range(30):
        TicketFactory(
            queue=QueueFactory(),
            created_at=NOW - timedelta(hours=i),
            first_response_at=NOW - timedelta(minutes=i),
            assignee=UserFactory(username=f"extra{i}"),
        )
    # Signed in just before the request: a session idle for a minute (a slow machine
    # making the tickets) is saved again, three more queries that are not the page's.
    client.force_login(chief)
    with django_assert_num_queries(AUTH_QUERIES + aggregate_queries() + 2):
        assert client.get(DATA + "?" + PERIOD).status_code == 200


def test_refreshes_within_the_cache_time_reuse_the_figures(
    client, chief, dataset, frozen_now, settings, django_assert_num_queries
):
    settings.DASHBOARD_CACHE_SECONDS = 30
    client.force_login(chief)
    first = client.get(DATA + "?" + PERIOD).json()
    with django_assert_num_queries(AUTH_QUERIES):
        assert client.get(DATA + "?" + PERIOD).json() == first
