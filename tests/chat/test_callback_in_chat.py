"""«Перезвоните мне» inside an open chat (issue 17, item 1; regulation 12): the signed chat
token names the chat, the call-back goes on its ticket through the tickets service, the
request is a line the operator's console shows, and the citizen is told the window."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat import selectors, services
from chat.models import ChatSession
from tests.chat.conftest import online, start
from tickets.events import ticket_group_name
from tickets.models import CallbackRequest, Message

pytestmark = pytest.mark.django_db

URL = "/chat/callback/"


def _post(client, session, **fields):
    data = {
        "phone": "8 (912) 345-67-89",
        "callback_day": "tomorrow",
        "callback_window": "evening",
        "callback_reason": "вход в кабинет",
    }
    data.update(fields)
    token = selectors.chat_token_for(session) if session is not None else "forged"
    return client.post(URL, data, headers={"X-Chat-Token": token})


@pytest.fixture
def chat(queue, chat_operator):
    online(chat_operator)
    session = start(queue)
    assert session.status in (ChatSession.Status.WAITING, ChatSession.Status.ACTIVE)
    return session


def test_the_call_back_goes_on_the_chats_ticket_and_the_citizen_is_told_the_window(client, chat):
    response = _post(client, chat)

    assert response.status_code == 200
    callback = CallbackRequest.objects.get()
    assert callback.ticket == chat.ticket
    assert (callback.source, callback.phone, callback.window, callback.reason) == (
        "chat",
        "+79123456789",
        "evening",
        "вход в кабинет",
    )
    assert response.json()["callback"].startswith("Мы перезвоним вам ")
    assert "+79123456789" in response.json()["callback"]


def test_the_request_is_a_line_of_the_chat_that_the_operators_console_receives(
    client, chat, django_capture_on_commit_callbacks
):
    # The console joins the ticket's group and shows each `message.new` as a line
    # (chat/consumers.py, OperatorConsumer.ticket_event).
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(ticket_group_name(chat.ticket_id), channel)

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, chat)

    assert response.status_code == 200
    event = async_to_sync(layer.receive)(channel)
    line = Message.objects.filter(ticket=chat.ticket).latest("id")
    assert event["event"] == "message.new" and event["message"]["id"] == line.pk
    assert line.author_kind == Message.Author.REQUESTER and not line.is_internal
    assert line.text == (
        "☎ Перезвоните мне, пожалуйста, по номеру +79123456789, завтра вечером (17–20)."
        " Тема: вход в кабинет"
    )


def test_asking_twice_keeps_one_entry_and_one_line(client, chat):
    _post(client, chat)
    again = _post(client, chat, callback_window="morning")

    assert again.status_code == 200
    assert CallbackRequest.objects.count() == 1
    assert Message.objects.filter(ticket=chat.ticket, text__startswith="☎").count() == 1


def test_a_forged_or_missing_token_creates_nothing(client, chat):
    assert _post(client, None).status_code == 403
    assert client.post(URL, {"phone": "+79123456789"}).status_code == 403
    assert not CallbackRequest.objects.exists()


def test_the_phone_is_required_and_checked(client, chat):
    missing = _post(client, chat, phone="")
    wrong = _post(client, chat, phone="12")

    assert missing.status_code == 400 and "phone" in missing.json()["errors"]
    assert wrong.status_code == 400 and "phone" in wrong.json()["errors"]
    assert not CallbackRequest.objects.exists()


def test_an_ended_chat_takes_no_call_back(client, chat):
    services.chat_end(session_id=chat.pk, by_citizen=True)

    response = _post(client, chat)

    assert response.status_code in (403, 409)
    assert not CallbackRequest.objects.exists()


def test_requests_are_rate_limited_per_address(client, chat):
    statuses = [_post(client, chat, phone="12").status_code for _ in range(11)]

    assert statuses[:10] == [400] * 10 and statuses[10] == 429


def test_the_chat_page_offers_the_button_and_the_form(client, queue):
    html = client.get("/chat/").content.decode()

    assert 'id="chat-callback-toggle" aria-expanded="false"' in html
    assert 'id="cb-phone"' in html and 'name="callback_window"' in html
