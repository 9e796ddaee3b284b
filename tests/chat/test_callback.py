"""«Перезвоните мне» from the chat widget (issue 17, item 1; regulation 12): the pre-chat
form takes the appeal form's call-back fields, online or not; the ticket joins the
call-back list through the same service, and the citizen is told «Мы перезвоним вам …»
with the window in the queue's time zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from chat.models import ChatSession
from tests.chat.conftest import online
from tests.factories import TicketFactory
from tickets.models import BusinessCalendar, CallbackRequest, TicketEvent

pytestmark = pytest.mark.django_db

URL = "/chat/start/"


def form(queue, **extra):
    data = {
        "full_name": "Петрова Мария",
        "phone": "8 (912) 345-67-89",
        "queue": queue.pk,
        "text": "Не приходит СМС-код",
        "callback": "on",
        "callback_day": "tomorrow",
        "callback_window": "morning",
        "callback_reason": "вход в кабинет",
    }
    data.update(extra)
    return data


def test_chat_form_with_call_me_back_puts_the_ticket_on_the_call_back_list(client, queue):
    response = client.post(URL, form(queue))

    assert response.status_code == 200
    data = response.json()
    session = ChatSession.objects.get()
    callback = CallbackRequest.objects.get(ticket=session.ticket)
    assert (callback.source, callback.phone, callback.window, callback.reason) == (
        CallbackRequest.Source.CHAT,
        "+79123456789",
        "morning",
        "вход в кабинет",
    )
    assert callback.window_date == timezone.localdate() + timedelta(days=1)
    assert data["status"] == ChatSession.Status.OFFLINE
    assert data["callback"].startswith("Мы перезвоним вам ")
    assert "утром (9–12) по времени МСК по номеру +79123456789" in data["callback"]
    assert session.ticket.events.filter(kind=TicketEvent.Kind.CALLBACK).count() == 1


def test_call_me_back_while_operators_are_online_calls_instead_of_queueing(
    client, queue, chat_operator
):
    online(chat_operator)

    data = client.post(URL, form(queue, callback_window="")).json()

    session = ChatSession.objects.get()
    assert session.status == ChatSession.Status.OFFLINE  # nobody is kept waiting in the line
    assert session.operator is None
    assert data["callback"].startswith("Мы перезвоним вам до ")
    assert "(МСК) по номеру +79123456789" in data["callback"]


def test_without_the_box_ticked_no_call_back_is_made(client, queue):
    data = client.post(URL, form(queue, callback="")).json()

    assert data["callback"] == ""
    assert not CallbackRequest.objects.exists()


def test_call_me_back_needs_a_phone(client, queue):
    response = client.post(URL, form(queue, phone="", email="maria@example.com"))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["phone"]
    assert not ChatSession.objects.exists()


def test_call_me_back_refuses_a_window_that_has_passed_in_the_queues_zone(
    client, queue, monkeypatch
):
    calendar = BusinessCalendar.objects.create(name="Урал", time_zone="Asia/Yekaterinburg")
    queue.calendar = calendar
    queue.save(update_fields=["calendar"])
    # 19:30 in Moscow, 21:30 in Yekaterinburg (MSK+2): this evening (17-20) is over there.
    at = datetime.now(UTC).replace(hour=16, minute=30, second=0, microsecond=0)
    monkeypatch.setattr(timezone, "now", lambda: at)

    late = client.post(URL, form(queue, callback_day="today", callback_window="evening"))
    queue.calendar = None
    queue.save(update_fields=["calendar"])
    in_moscow = client.post(URL, form(queue, callback_day="today", callback_window="evening"))

    assert late.status_code == 400
    assert "callback_window" in late.json()["errors"]
    assert in_moscow.status_code == 200


def test_the_window_is_the_queues_local_morning(client, queue):
    calendar = BusinessCalendar.objects.create(name="Урал", time_zone="Asia/Yekaterinburg")
    queue.calendar = calendar
    queue.save(update_fields=["calendar"])

    data = client.post(URL, form(queue)).json()

    callback = CallbackRequest.objects.get()
    tomorrow = datetime.now(ZoneInfo("Asia/Yekaterinburg")).date() + timedelta(days=1)
    assert callback.window_date == tomorrow
    # Due by the end of the window: 12:00 in Yekaterinburg, 10:00 in Moscow.
    local_due = callback.due_at.astimezone(ZoneInfo("Asia/Yekaterinburg"))
    assert local_due.hour <= 12
    assert "по времени МСК+2" in data["callback"]


def test_call_me_back_on_an_existing_appeal_joins_it(client, queue, supervisor):
    ticket = TicketFactory(queue=queue)
    ticket.requester.phone = "+79123456789"
    ticket.requester.save(update_fields=["phone"])

    data = client.post(URL, form(queue, number=ticket.reference)).json()

    assert data["number"] == ticket.reference
    assert CallbackRequest.objects.get().ticket == ticket


def test_chat_page_offers_call_me_back_with_the_appeal_forms_fields(client, queue):
    html = client.get("/chat/").content.decode()

    assert 'name="callback"' in html and 'id="cs-callback"' in html
    assert 'name="callback_window"' in html and "Перезвоните мне" in html
