"""The public footer states the working hours and each queue's first-answer deadline;
every page has a favicon (issue 20, item 7)."""

import pytest
from django.utils import translation

from tickets.service_hours import answer_deadline_text, working_hours_text

pytestmark = pytest.mark.django_db


def test_working_hours_are_said_with_weekdays_and_the_zone(translations, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    with translation.override("ru"):
        assert working_hours_text("1-5 09:00-18:00") == "пн–пт, 9:00–18:00 (МСК)"
        assert working_hours_text("1-5,6 08:30-20:00") == "пн–пт, сб, 8:30–20:00 (МСК)"


def test_empty_support_hours_mean_round_the_clock(translations):
    with translation.override("ru"):
        assert working_hours_text("") == "круглосуточно"


def test_one_deadline_for_queues_that_share_it_with_a_russian_plural(translations, queue):
    queue.sla_first_response_hours = 24
    queue.save(update_fields=["sla_first_response_hours"])

    with translation.override("ru"):
        assert answer_deadline_text() == "Первый ответ на обращение — в течение 24 часов."


def test_queues_with_different_deadlines_are_listed_each(translations, queue, other_queue):
    other_queue.sla_first_response_hours = 1
    other_queue.save(update_fields=["sla_first_response_hours"])

    with translation.override("ru"):
        text = answer_deadline_text()

    assert "Сайт Навигатора — 24 часа" in text
    assert "Система бронирования — 1 час" in text


def test_the_public_footer_shows_hours_and_deadline(client, translations, queue, settings):
    settings.SUPPORT_HOURS = "1-5 09:00-18:00"

    html = client.get("/appeal/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    footer = html[html.index('<footer class="site-footer"') :]

    assert "пн–пт, 9:00–18:00" in footer
    assert "в течение 24 часов" in footer


def test_pages_link_a_favicon_and_favicon_ico_leads_to_it(client, queue):
    html = client.get("/appeal/").content.decode()
    response = client.get("/favicon.ico")

    assert 'rel="icon" href="/static/favicon.svg"' in html
    assert response.status_code == 302
    assert response["Location"] == "/static/favicon.svg"
