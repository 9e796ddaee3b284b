"""Times as citizens read them: one format with the time zone, on the web and in mail."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from notifications.delivery import notification_build_email
from notifications.models import Notification
from tests.tickets.admin_helpers import new_ticket
from tickets.citizen_time import citizen_datetime, queue_time_zone
from tickets.services import ticket_create

# 5 December 2026, 00:07 in Moscow.
MOMENT = datetime(2026, 12, 4, 21, 7, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _russian(translations):
    pass


def test_citizen_datetime_in_russian_names_the_day_month_and_moscow_time():
    with translation.override("ru"):
        assert citizen_datetime(MOMENT) == "5 декабря 2026, 00:07 (МСК)"


def test_citizen_datetime_in_english():
    with translation.override("en"):
        assert citizen_datetime(MOMENT) == "5 December 2026, 00:07 (MSK)"


@pytest.mark.parametrize(
    ("zone", "text"),
    [
        ("Asia/Yekaterinburg", "5 декабря 2026, 02:07 (МСК+2)"),
        ("Europe/Kaliningrad", "4 декабря 2026, 23:07 (МСК−1)"),
        ("Asia/Vladivostok", "5 декабря 2026, 07:07 (МСК+7)"),
        ("Europe/Berlin", "4 декабря 2026, 22:07 (CET)"),
        ("UTC", "4 декабря 2026, 21:07 (UTC)"),
        ("Asia/Dubai", "5 декабря 2026, 01:07 (UTC+4)"),
    ],
)
def test_russian_zones_are_told_from_moscow_and_others_by_their_name(zone, text):
    with translation.override("ru"):
        assert citizen_datetime(MOMENT, zone) == text


def test_a_queue_with_its_own_time_zone_is_told_in_it(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    queue = SimpleNamespace(time_zone="Asia/Yekaterinburg")

    assert queue_time_zone(queue).key == "Asia/Yekaterinburg"
    assert queue_time_zone(SimpleNamespace()).key == "Europe/Moscow"
    assert queue_time_zone(None).key == "Europe/Moscow"


def test_the_template_filter_formats_in_the_active_language():
    template = Template("{% load citizen_time %}{{ when|citizen_time }}|{{ nothing|citizen_time }}")

    with translation.override("ru"):
        assert template.render(Context({"when": MOMENT})) == "5 декабря 2026, 00:07 (МСК)|"


@pytest.mark.django_db
def test_the_done_page_says_by_when_with_the_weekday_and_the_time_zone(client, queue, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: MOMENT - timedelta(hours=24))
    ticket = new_ticket(queue)
    ticket.first_response_due = MOMENT
    ticket.save(update_fields=["first_response_due"])

    response = client.get(ticket.get_status_url().replace("/appeal/", "/appeal/done/", 1))

    assert "до 00:07 субботы, 5 декабря (МСК)" in response.content.decode()


@pytest.mark.django_db
def test_the_status_page_shows_every_time_with_its_zone(client, queue):
    ticket = new_ticket(queue)
    ticket.created_at = MOMENT - timedelta(days=1)
    ticket.first_response_due = MOMENT
    ticket.save(update_fields=["created_at", "first_response_due"])

    page = client.get(ticket.get_status_url()).content.decode()

    assert "4 декабря 2026, 00:07 (МСК)" in page
    assert "5 декабря 2026, 00:07 (МСК)" in page
    assert "d.m.Y" not in page


@pytest.mark.django_db
def test_the_auto_reply_says_by_when_in_the_same_format_as_the_done_page(
    queue, contact, monkeypatch
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: MOMENT - timedelta(hours=24))
    ticket = ticket_create(
        queue=queue, requester=contact, channel="web", subject="Вход", text="Не вхожу"
    )

    notification = Notification.objects.get(reference=ticket.reference, template="auto_reply")
    body = notification_build_email(notification).body

    assert "до 00:07 субботы, 5 декабря (МСК)" in body


@pytest.mark.django_db
def test_the_offline_chat_says_by_when_with_the_time_zone(client, queue):
    response = client.post(
        "/chat/start/",
        {"full_name": "Мария", "phone": "+79001234567", "queue": queue.pk, "text": "Вопрос"},
    )

    data = response.json()
    assert data["status"] == "offline"
    assert data["due_text"].startswith("Ответ будет дан до ")
    assert data["due_text"].endswith(" (МСК).")
