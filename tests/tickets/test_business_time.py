"""Business calendars: the SLA clock counts working hours (issue 19, item 1).

Dates: 2026-12-04 is a Friday; 2026-06-12 (Friday) is Russia Day; 2025-11-01 is a
Saturday worked for the Monday 2025-11-03 off (the production calendar of 2025).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from notifications.delivery import notification_build_email
from notifications.models import Notification
from tests.factories import TicketFactory
from tests.tickets.admin_helpers import new_ticket
from tickets.business_time import working_time
from tickets.models import BusinessCalendar, CalendarDayOff, Ticket
from tickets.selectors_admin import ticket_sla_state
from tickets.services import ticket_create
from tickets.services.callbacks import callback_due_at
from tickets.sla import sla_pause, sla_resume

MSK = ZoneInfo("Europe/Moscow")
pytestmark = pytest.mark.django_db


def msk(*args) -> datetime:
    return datetime(*args, tzinfo=MSK)


@pytest.fixture
def calendar():
    return BusinessCalendar.objects.create(name="Пятидневка 9–18")


@pytest.fixture
def office_queue(queue, calendar):
    """The first answer within 8 working hours, Monday to Friday 9:00–18:00 MSK."""
    queue.calendar = calendar
    queue.sla_first_response_hours = 8
    queue.save()
    return queue


def due_after(queue, start: datetime, hours: int = 8) -> datetime:
    return working_time(queue).add(start, timedelta(hours=hours)).astimezone(MSK)


def test_a_queue_without_a_calendar_counts_around_the_clock(queue):
    start = msk(2026, 12, 4, 17, 0)

    assert due_after(queue, start) == msk(2026, 12, 5, 1, 0)


def test_the_clock_stops_over_the_weekend(office_queue):
    # One hour on Friday, seven on Monday.
    assert due_after(office_queue, msk(2026, 12, 4, 17, 0)) == msk(2026, 12, 7, 16, 0)


def test_the_clock_stops_on_a_public_holiday(office_queue):
    # Thursday 11 June, then Russia Day, Saturday, Sunday.
    assert due_after(office_queue, msk(2026, 6, 11, 17, 0)) == msk(2026, 6, 15, 16, 0)


def test_a_transferred_working_saturday_counts_with_mondays_hours(office_queue):
    assert due_after(office_queue, msk(2025, 10, 31, 17, 0)) == msk(2025, 11, 1, 16, 0)


def test_an_appeal_filed_at_night_starts_counting_at_opening(office_queue):
    assert due_after(office_queue, msk(2026, 12, 8, 2, 30)) == msk(2026, 12, 8, 17, 0)


def test_an_extra_day_off_of_the_calendar_is_skipped(office_queue, calendar):
    before = due_after(office_queue, msk(2026, 12, 4, 17, 0))
    CalendarDayOff.objects.create(calendar=calendar, date="2026-12-07", note="Санитарный день")
    calendar.save()  # the admin saves the calendar with its days off

    office_queue.refresh_from_db()
    assert before == msk(2026, 12, 7, 16, 0)
    assert due_after(office_queue, msk(2026, 12, 4, 17, 0)) == msk(2026, 12, 8, 16, 0)


def test_the_calendar_is_compiled_once_per_version(
    office_queue, calendar, django_assert_num_queries
):
    queue = type(office_queue).objects.select_related("calendar").get(pk=office_queue.pk)
    first = working_time(queue)

    with django_assert_num_queries(0):
        again = working_time(queue)

    assert again is first


def test_working_time_between_two_moments_skips_nights_and_weekends(office_queue):
    clock = working_time(office_queue)

    assert clock.between(msk(2026, 12, 4, 17, 0), msk(2026, 12, 7, 10, 0)) == timedelta(hours=2)
    assert clock.subtract(msk(2026, 12, 7, 10, 0), timedelta(hours=2)) == msk(2026, 12, 4, 17, 0)


def test_a_new_tickets_due_time_and_reminder_count_working_hours(office_queue, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: msk(2026, 12, 4, 17, 0))

    ticket = new_ticket(office_queue)

    assert ticket.first_response_due == msk(2026, 12, 7, 16, 0)
    # 75 % of 8 working hours used: two are left before Monday 16:00.
    assert ticket.sla_remind_at == msk(2026, 12, 7, 14, 0)
    assert ticket.sla_breach_at == ticket.first_response_due


def test_a_pause_over_the_weekend_keeps_the_working_time_left(office_queue):
    ticket = TicketFactory(
        queue=office_queue,
        created_at=msk(2026, 12, 4, 10, 0),
        first_response_due=msk(2026, 12, 4, 18, 0),
    )
    sla_pause(ticket, msk(2026, 12, 4, 12, 0))  # six working hours left

    sla_resume(ticket, msk(2026, 12, 7, 10, 0))

    assert ticket.first_response_due == msk(2026, 12, 7, 16, 0)
    assert ticket.sla_remind_at == msk(2026, 12, 7, 14, 0)


def test_time_left_on_a_weekend_is_the_working_time_left(office_queue):
    ticket = TicketFactory(
        queue=office_queue,
        status=Ticket.Status.NEW,
        created_at=msk(2026, 12, 4, 17, 0),
        first_response_due=msk(2026, 12, 7, 16, 0),
    )

    with translation.override("en"):
        state = ticket_sla_state(ticket, now=msk(2026, 12, 5, 12, 0))

    assert (state.state, state.text) == ("green", "7 h left")


def test_a_call_back_is_due_in_working_hours(office_queue, settings):
    settings.CALLBACK_TARGET_HOURS = 4

    due = callback_due_at(
        now=msk(2026, 12, 4, 16, 0), bounds=None, clock=working_time(office_queue)
    )

    assert due == msk(2026, 12, 7, 11, 0)


def test_the_auto_reply_states_the_deadline_in_the_queues_time_zone(
    office_queue, calendar, contact, monkeypatch, translations
):
    calendar.time_zone = "Asia/Yekaterinburg"
    calendar.save()
    office_queue.refresh_from_db()
    monkeypatch.setattr(
        "django.utils.timezone.now",
        lambda: datetime(2026, 12, 4, 10, 0, tzinfo=ZoneInfo("Asia/Yekaterinburg")),
    )

    ticket = ticket_create(
        queue=office_queue, requester=contact, channel="web", subject="Вход", text="Не вхожу"
    )
    notification = Notification.objects.get(reference=ticket.reference, template="auto_reply")
    body = notification_build_email(notification).body

    assert "до 18:00 пятницы, 4 декабря (МСК+2) (в течение 8 ч рабочего времени)" in body


def test_the_done_page_says_working_hours_and_the_weekday(
    client, office_queue, monkeypatch, translations
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: msk(2026, 12, 4, 17, 0))
    ticket = new_ticket(office_queue)

    page = client.get(ticket.get_status_url().replace("/appeal/", "/appeal/done/", 1))

    assert (
        "в течение 8 рабочих часов, до 16:00 понедельника, 7 декабря (МСК)" in page.content.decode()
    )


@pytest.mark.parametrize("hours", ["9-18", "18:00-09:00", "09:00 до 18:00"])
def test_working_hours_must_read_like_09_00_18_00(calendar, hours):
    calendar.monday = hours

    with pytest.raises(ValidationError) as error:
        calendar.full_clean()

    assert "monday" in error.value.message_dict


def test_a_calendar_needs_a_known_time_zone_and_a_working_day(calendar):
    calendar.time_zone = "Europe/Atlantis"
    for name in ("monday", "tuesday", "wednesday", "thursday", "friday"):
        setattr(calendar, name, "")

    with pytest.raises(ValidationError) as error:
        calendar.full_clean()

    assert set(error.value.message_dict) == {"time_zone", "__all__"}


def test_changelist_of_100_calendar_tickets_reads_the_calendar_once(
    client, supervisor, office_queue, django_assert_max_num_queries
):
    TicketFactory.create_batch(100, queue=office_queue)
    client.force_login(supervisor)

    # As many as the 24/7 changelist's pin, plus the calendar's days off on first use.
    with django_assert_max_num_queries(16):
        response = client.get("/admin/tickets/ticket/")

    assert len(response.context["cl"].result_list) == 100


def test_the_dashboard_says_working_time_left_for_a_calendar_queue(
    client, supervisor, office_queue, monkeypatch, translations
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: msk(2026, 12, 7, 8, 0))
    TicketFactory(
        queue=office_queue,
        created_at=msk(2026, 12, 4, 10, 30),
        first_response_due=msk(2026, 12, 7, 9, 30),
    )
    client.force_login(supervisor)

    data = client.get("/dashboard/data/").json()

    # 1 h 30 min on the wall clock, but the office opens at 9:00.
    assert "осталось 30 мин" in data["tables"]["at_risk"]
