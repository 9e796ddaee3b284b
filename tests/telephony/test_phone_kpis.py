"""Phone figures on the supervisor dashboard, from the call log."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from telephony.kpis import phone_kpis
from telephony.models import CallRecord

pytestmark = pytest.mark.django_db


def _call(n, *, at, wait, answered=True, direction="in", queue_label=""):
    return CallRecord.objects.create(
        call_id=f"c{n}",
        direction=direction,
        from_number="+79123456789",
        ring_at=at,
        answer_at=at + timedelta(seconds=wait) if answered else None,
        end_at=at + timedelta(seconds=wait + 60),
        wait_seconds=wait,
        missed=not answered and direction == "in",
        queue_label=queue_label,
    )


@pytest.fixture
def day():
    local = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return local, local + timedelta(days=1)


def test_rates_speed_and_peak_hour_come_from_inbound_calls(day):
    start, end = day
    ten, eleven = start + timedelta(hours=10), start + timedelta(hours=11)
    _call(1, at=ten, wait=10)
    _call(2, at=ten + timedelta(minutes=5), wait=30)
    _call(3, at=ten + timedelta(minutes=9), wait=45, answered=False)
    _call(4, at=eleven, wait=20)
    _call(5, at=eleven, wait=99, direction="out")  # outbound: not counted
    _call(6, at=start - timedelta(hours=1), wait=5)  # before the period

    kpis = phone_kpis(start=start, end=end)

    assert (kpis.inbound, kpis.answered, kpis.missed) == (4, 3, 1)
    assert (kpis.answer_percent, kpis.abandon_percent) == (75.0, 25.0)
    assert kpis.speed_of_answer == 20.0 and kpis.longest_wait == 30
    assert kpis.per_hour[10] == 3 and kpis.per_hour[11] == 1 and kpis.peak_hour == 10


def test_no_calls_gives_no_rates(day):
    kpis = phone_kpis(start=day[0], end=day[1])

    assert kpis.answer_percent is None and kpis.speed_of_answer is None
    assert kpis.peak_hour is None


def test_the_dashboard_shows_the_phone_panel_with_the_abandonment_target(
    client, supervisor, day, settings
):
    settings.PHONE_ABANDON_TARGET_PERCENT = 20
    _call(1, at=day[0] + timedelta(hours=9), wait=10)
    _call(2, at=day[0] + timedelta(hours=9), wait=10, answered=False)
    client.force_login(supervisor)

    page = client.get(reverse("dashboard:index"), {"period": "today"}, HTTP_ACCEPT_LANGUAGE="en")

    html = page.content.decode()
    assert 'data-panel="phone"' in html
    assert 'data-tile="phone_abandon_rate"' in html and "target ≤ 20 %" in html
    assert "09:00–09:59" in html


def test_the_phone_figures_are_cached_between_dashboard_loads(client, supervisor, day, settings):
    settings.DASHBOARD_CACHE_SECONDS = 60
    client.force_login(supervisor)
    url = reverse("dashboard:index")
    client.get(url, {"period": "today"})
    _call(1, at=day[0] + timedelta(hours=9), wait=10)

    page = client.get(url, {"period": "today"}, HTTP_ACCEPT_LANGUAGE="en")

    assert "09:00–09:59" not in page.content.decode()  # the cached (empty) figures


def _csv(response) -> list[list[str]]:
    import csv
    import io

    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_phone_panel_exports_its_figures_and_hours_as_csv(client, supervisor, day, settings):
    from audit.models import AuditEvent

    settings.PHONE_ABANDON_TARGET_PERCENT = 20
    _call(1, at=day[0] + timedelta(hours=9), wait=10)
    _call(2, at=day[0] + timedelta(hours=9, minutes=5), wait=31)
    _call(3, at=day[0] + timedelta(hours=9), wait=10, answered=False)
    _call(4, at=day[0] + timedelta(hours=14), wait=5)
    client.force_login(supervisor)

    response = client.get(reverse("dashboard:export", args=["phone"]), {"period": "today"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="dashboard-phone-')
    rows = _csv(response)
    figures = {row[0]: row[1:] for row in rows[1:]}
    assert rows[0] == ["Показатель", "Значение", "Примечание"]
    assert figures["Входящие звонки"] == ["4", ""]
    assert figures["Принято"][0] == "3" and figures["Пропущено"][0] == "1"
    assert figures["Доля отказов, %"] == ["25,0", "цель ≤ 20 %"]
    assert figures["Среднее время ответа, с"][0] == "15,3"
    assert figures["Входящие звонки 09:00–09:59"] == ["3", "час пик"]
    assert figures["Входящие звонки 14:00–14:59"] == ["1", ""]
    assert len([r for r in rows if r[0].startswith("Входящие звонки ")]) == 24
    assert AuditEvent.objects.get(action="export.csv").details["export"] == "phone"


def test_only_supervisors_get_the_phone_csv(client, day):
    from tests.tickets.admin_helpers import make_operator

    client.force_login(make_operator("anna"))

    assert client.get(reverse("dashboard:export", args=["phone"])).status_code == 403


def test_the_page_links_the_phone_csv_and_puts_the_panel_in_a_refresh_slot(client, supervisor, day):
    client.force_login(supervisor)

    html = client.get(reverse("dashboard:index"), {"period": "today"}).content.decode()

    assert '<div data-panel-slot="phone">' in html
    assert html.count("/dashboard/export/phone.csv?period=today") == 2  # panel + list


def test_the_refresh_json_carries_the_phone_panel_with_new_calls(client, supervisor, day, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    client.force_login(supervisor)
    url = reverse("dashboard:data")
    before = client.get(url, {"period": "today"}, HTTP_ACCEPT_LANGUAGE="en").json()
    _call(1, at=day[0] + timedelta(hours=9), wait=10)

    after = client.get(url, {"period": "today"}, HTTP_ACCEPT_LANGUAGE="en").json()

    assert "09:00–09:59" not in before["panels"]["phone"]
    assert 'data-panel="phone"' in after["panels"]["phone"]
    assert "09:00–09:59" in after["panels"]["phone"]
