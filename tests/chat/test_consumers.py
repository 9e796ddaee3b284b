"""The websocket consumers with the in-memory channel layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from chat import consumers, services
from chat.consumers import QUEUE_REFRESH_SECONDS
from chat.models import ChatSession
from chat.selectors import chat_token_for
from tests.chat.conftest import (
    citizen_socket,
    online,
    operator_socket,
    receive_until,
    session_cookie,
    start,
)
from tests.factories import CHAT_OPERATOR, UserFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db(transaction=True)

ESCALATION_NOTE = "Просит пересчитать начисление; выписку проверили, ошибка в расчёте."


@database_sync_to_async
def _setup(queue, operator=None, **kwargs):
    if operator is not None:
        online(operator)
    session = start(queue, **kwargs)
    session = ChatSession.objects.select_related("ticket").get(pk=session.pk)
    return session, chat_token_for(session)


@database_sync_to_async
def _messages(ticket_id):
    return list(
        Message.objects.filter(ticket_id=ticket_id)
        .order_by("id")
        .values_list("author_kind", "text")
    )


async def _citizen(token, last_id=0):
    communicator = citizen_socket()
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello", "token": token, "last_id": last_id})
    welcome = await receive_until(communicator, "welcome")
    return communicator, welcome


async def _operator(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    communicator = operator_socket(cookie)
    connected, _ = await communicator.connect()
    assert connected
    init = await receive_until(communicator, "init")
    return communicator, init


async def test_citizen_line_is_stored_on_the_ticket_and_acknowledged(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    citizen, welcome = await _citizen(token)
    assert welcome["number"] == session.ticket.reference
    assert [line["text"] for line in welcome["lines"]] == ["Не приходит СМС-код"]

    await citizen.send_json_to({"type": "message", "seq": 1, "text": "Код не пришёл и сейчас"})
    ack = await receive_until(citizen, "ack")
    assert ack["seq"] == 1 and ack["id"]
    assert (await _messages(session.ticket_id))[-1] == ("requester", "Код не пришёл и сейчас")
    await citizen.disconnect()


async def test_lines_go_both_ways_between_citizen_and_operator(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    operator, init = await _operator(chat_operator)
    assert [c["id"] for c in init["chats"]] == [session.pk]  # routed automatically
    citizen, welcome = await _citizen(token)
    assert welcome["status"] == ChatSession.Status.ACTIVE

    await citizen.send_json_to({"type": "message", "seq": 1, "text": "Здравствуйте"})
    line = await receive_until(operator, "line")
    assert line["session"] == session.pk and line["line"]["text"] == "Здравствуйте"

    await operator.send_json_to(
        {"type": "message", "session": session.pk, "seq": 1, "text": "Добрый день!"}
    )
    reply = await receive_until(citizen, "line")
    while reply["line"]["author_kind"] != "operator":  # its own line comes back first
        reply = await receive_until(citizen, "line")
    assert reply["line"]["text"] == "Добрый день!"
    assert (await _messages(session.ticket_id))[-1] == ("operator", "Добрый день!")
    await citizen.disconnect()
    await operator.disconnect()


async def test_line_resent_after_reconnect_is_stored_once(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    citizen, welcome = await _citizen(token)
    await citizen.send_json_to({"type": "message", "seq": 1, "text": "Первая строка"})
    first = await receive_until(citizen, "ack")
    await citizen.disconnect()

    # The ack was lost with the connection: the client reconnects and resends.
    citizen, welcome = await _citizen(token, last_id=welcome["lines"][-1]["id"])
    assert welcome["acked"] == 1
    assert [line["id"] for line in welcome["lines"]] == [first["id"]]
    await citizen.send_json_to({"type": "message", "seq": 1, "text": "Первая строка"})
    again = await receive_until(citizen, "ack")
    assert again["duplicate"] is True
    texts = [text for _, text in await _messages(session.ticket_id)]
    assert texts.count("Первая строка") == 1
    await citizen.disconnect()


async def test_a_bad_token_is_refused(queue, chat_operator):
    await _setup(queue, chat_operator)
    citizen = citizen_socket()
    await citizen.connect()
    await citizen.send_json_to({"type": "hello", "token": "forged:token"})
    error = await receive_until(citizen, "error")
    assert error["code"] == "bad_token"
    closed = await citizen.receive_output(timeout=2)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403


async def test_a_message_before_hello_closes_the_socket(queue):
    citizen = citizen_socket()
    await citizen.connect()
    await citizen.send_json_to({"type": "message", "seq": 1, "text": "x"})
    error = await receive_until(citizen, "error")
    assert error["code"] == "unauthenticated"


async def test_a_citizen_never_sees_another_citizens_chat(queue, chat_operator):
    first, first_token = await _setup(queue, chat_operator)
    second, second_token = await _setup(queue, email="other@example.com", text="Другой вопрос")
    citizen_a, welcome_a = await _citizen(first_token)
    citizen_b, welcome_b = await _citizen(second_token)
    assert "Другой вопрос" not in [line["text"] for line in welcome_a["lines"]]

    await citizen_b.send_json_to({"type": "message", "seq": 1, "text": "секрет B"})
    await receive_until(citizen_b, "ack")
    await receive_until(citizen_b, "line")
    assert await citizen_a.receive_nothing(timeout=0.5)
    await citizen_a.disconnect()
    await citizen_b.disconnect()


async def test_a_message_over_the_size_limit_is_refused(queue, chat_operator, settings):
    settings.CHAT_MESSAGE_MAX_CHARS = 50
    session, token = await _setup(queue, chat_operator)
    citizen, _ = await _citizen(token)
    await citizen.send_json_to({"type": "message", "seq": 1, "text": "я" * 51})
    error = await receive_until(citizen, "error")
    assert error["code"] == "too_long" and error["seq"] == 1
    assert len(await _messages(session.ticket_id)) == 1
    await citizen.disconnect()


async def test_a_socket_sending_too_fast_is_rate_limited(queue, chat_operator, settings):
    settings.CHAT_RATE_LIMIT = 3
    session, token = await _setup(queue, chat_operator)
    citizen, _ = await _citizen(token)
    for seq in range(1, 5):
        await citizen.send_json_to({"type": "message", "seq": seq, "text": f"строка {seq}"})
    error = await receive_until(citizen, "error")
    assert error["code"] == "rate_limited" and error["seq"] == 4
    assert len(await _messages(session.ticket_id)) == 4  # the first line + 3
    await citizen.disconnect()


async def test_html_is_passed_as_text_not_markup(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    citizen, _ = await _citizen(token)
    await citizen.send_json_to(
        {"type": "message", "seq": 1, "text": "<img src=x onerror=alert(1)>"}
    )
    line = await receive_until(citizen, "line")
    # Stored and relayed verbatim; the widget renders it with textContent.
    assert line["line"]["text"] == "<img src=x onerror=alert(1)>"
    await citizen.disconnect()


async def test_operator_socket_needs_a_staff_session(queue):
    anonymous = operator_socket(None)
    connected, _ = await anonymous.connect()
    assert not connected
    citizen_user = await database_sync_to_async(UserFactory)(username="notstaff", is_staff=False)
    cookie = await database_sync_to_async(session_cookie)(citizen_user)
    not_staff = operator_socket(cookie)
    connected, _ = await not_staff.connect()
    assert not connected


async def test_a_foreign_origin_is_refused(queue):
    citizen = citizen_socket(origin=b"https://evil.example")
    connected, _ = await citizen.connect()
    assert not connected


async def test_waiting_citizen_is_told_the_position(queue):
    operator = await database_sync_to_async(UserFactory)(username="busy", permissions=CHAT_OPERATOR)

    @database_sync_to_async
    def busy_operator():
        online(operator, max_chats=1)
        start(queue, email="first@example.com")  # takes the only slot

    await busy_operator()
    session, token = await _setup(queue, email="second@example.com")
    citizen, welcome = await _citizen(token)
    assert welcome["status"] == "waiting"
    assert welcome["position"] == 1
    assert welcome["eta"] > 0
    await citizen.disconnect()


async def test_typing_and_delivered_are_relayed_to_the_other_side(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    operator, _ = await _operator(chat_operator)
    citizen, _ = await _citizen(token)
    await citizen.send_json_to({"type": "typing"})
    typing = await receive_until(operator, "typing")
    assert typing["session"] == session.pk
    await operator.send_json_to({"type": "delivered", "session": session.pk, "ids": [7]})
    delivered = await receive_until(citizen, "delivered")
    assert delivered["ids"] == [7]
    await citizen.disconnect()
    await operator.disconnect()


async def test_operator_accepts_a_waiting_chat_in_manual_mode(queue, chat_operator, settings):
    settings.CHAT_ROUTING = "manual"
    session, token = await _setup(queue, chat_operator)
    operator, init = await _operator(chat_operator)
    assert [w["id"] for w in init["waiting"]] == [session.pk]
    citizen, _ = await _citizen(token)
    await operator.send_json_to({"type": "accept", "session": session.pk})
    assigned = await receive_until(operator, "assigned")
    assert assigned["chat"]["id"] == session.pk
    state = await receive_until(citizen, "state")
    assert state["status"] == "active" and state["operator"] == "Анна"
    await citizen.disconnect()
    await operator.disconnect()


async def test_operator_cannot_write_into_a_chat_that_is_not_theirs(queue, chat_operator):
    session, _token = await _setup(queue, chat_operator)
    other = await database_sync_to_async(UserFactory)(
        username="other-op", permissions=CHAT_OPERATOR
    )
    operator, _ = await _operator(other)
    await operator.send_json_to({"type": "message", "session": session.pk, "seq": 1, "text": "x"})
    error = await receive_until(operator, "error")
    assert error["code"] == "not_yours"
    await operator.disconnect()


async def test_transfer_to_second_line_escalates_and_ends_the_chat(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    operator, _ = await _operator(chat_operator)
    citizen, _ = await _citizen(token)
    await operator.send_json_to(
        {"type": "transfer", "session": session.pk, "to": "line2", "note": ESCALATION_NOTE}
    )
    state = await receive_until(citizen, "state")
    assert state["status"] == "ended" and state["reason"] == "escalated"
    released = await receive_until(operator, "released")
    assert released["session"] == session.pk

    @database_sync_to_async
    def line():
        return Ticket.objects.get(pk=session.ticket_id).line

    assert await line() == Ticket.Line.SECOND
    await citizen.disconnect()
    await operator.disconnect()


@pytest.mark.parametrize("note", [None, "", "   "])
async def test_transfer_to_second_line_asks_for_the_note_and_keeps_the_chat(
    queue, chat_operator, translations, note
):
    # Seed 002 §3.7: an escalation from the chat needs the note like any other; none is
    # made up for the operator.
    session, token = await _setup(queue, chat_operator)
    operator, _ = await _operator(chat_operator)
    body = {"type": "transfer", "session": session.pk, "to": "line2"}
    if note is not None:
        body["note"] = note
    await operator.send_json_to(body)

    error = await receive_until(operator, "error")

    assert error["code"] == "note_required" and error["session"] == session.pk
    assert error["message"].startswith("Напишите комментарий для второй линии")

    @database_sync_to_async
    def state():
        chat = ChatSession.objects.select_related("ticket").get(pk=session.pk)
        return chat.status, chat.ticket.line, chat.ticket.department_due

    assert await state() == (ChatSession.Status.ACTIVE, Ticket.Line.FIRST, None)
    await operator.disconnect()


async def test_transfer_to_another_operator_moves_the_chat(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    colleague = await database_sync_to_async(UserFactory)(
        username="colleague", permissions=CHAT_OPERATOR
    )
    await database_sync_to_async(online)(colleague)
    first, _ = await _operator(chat_operator)
    second, _ = await _operator(colleague)
    await first.send_json_to({"type": "transfer", "session": session.pk, "to": colleague.pk})
    assert (await receive_until(first, "released"))["session"] == session.pk
    assert (await receive_until(second, "assigned"))["chat"]["id"] == session.pk
    await first.disconnect()
    await second.disconnect()


async def test_citizen_ends_the_chat(queue, chat_operator):
    session, token = await _setup(queue, chat_operator)
    operator, _ = await _operator(chat_operator)
    citizen, _ = await _citizen(token)
    await citizen.send_json_to({"type": "end"})
    assert (await receive_until(citizen, "state"))["status"] == "ended"
    released = await receive_until(operator, "released")
    assert released["reason"] == "citizen"
    await citizen.disconnect()
    await operator.disconnect()


async def test_a_burst_of_waiting_line_changes_is_shown_to_a_console_once(
    queue, chat_operator, settings
):
    settings.CHAT_ROUTING = "manual"

    @database_sync_to_async
    def waiting_chats():
        online(chat_operator)
        for i in range(5):
            start(queue, email=f"c{i}@example.com")

    await waiting_chats()
    operator, init = await _operator(chat_operator)
    assert init["count"] == 5
    layer = get_channel_layer()
    for _ in range(20):  # twenty chats started or taken at once, anywhere
        await layer.group_send(services.OPERATORS_GROUP, {"type": "console.queue.changed"})
    frame = await receive_until(operator, "queue")
    assert frame["count"] == 5 and len(frame["order"]) == 5
    assert await operator.receive_nothing(timeout=2 * QUEUE_REFRESH_SECONDS)
    await operator.disconnect()


async def test_a_console_is_sent_only_the_summaries_of_chats_it_does_not_have(
    queue, chat_operator, settings
):
    settings.CHAT_ROUTING = "manual"

    @database_sync_to_async
    def one_waiting():
        online(chat_operator)
        return start(queue)

    first = await one_waiting()
    operator, init = await _operator(chat_operator)
    assert [w["id"] for w in init["waiting"]] == [first.pk]

    second = await database_sync_to_async(start)(queue, email="ivan@example.com")
    frame = await receive_until(operator, "queue")

    assert frame["order"] == [first.pk, second.pk]
    assert [w["id"] for w in frame["added"]] == [second.pk]
    assert frame["added"][0]["number"] == second.ticket.reference
    assert frame["count"] == 2
    await operator.disconnect()


async def test_a_chat_taken_from_the_line_leaves_the_consoles_order(queue, chat_operator, settings):
    settings.CHAT_ROUTING = "manual"

    @database_sync_to_async
    def two_waiting():
        online(chat_operator)
        return start(queue), start(queue, email="ivan@example.com")

    first, second = await two_waiting()
    operator, _init = await _operator(chat_operator)
    await database_sync_to_async(services.chat_end)(session_id=first.pk, by_citizen=True)
    frame = await receive_until(operator, "queue")

    assert frame["order"] == [second.pk]
    assert frame["added"] == []
    assert frame["count"] == 1
    await operator.disconnect()


async def test_a_waiting_citizen_is_told_the_new_position_when_the_line_moves(queue):
    operator = await database_sync_to_async(UserFactory)(username="busy", permissions=CHAT_OPERATOR)

    @database_sync_to_async
    def two_waiting():
        online(operator, max_chats=1)
        start(queue, email="first@example.com")  # takes the only slot
        return start(queue, email="second@example.com"), start(queue, email="third@example.com")

    second, third = await two_waiting()
    citizen, welcome = await _citizen(await database_sync_to_async(chat_token_for)(third))
    assert welcome["position"] == 2
    await database_sync_to_async(services.chat_end)(session_id=second.pk, by_citizen=True)
    frame = await receive_until(citizen, "queue")
    assert frame["position"] == 1
    await citizen.disconnect()


def test_the_waiting_line_summaries_are_kept_per_event_loop(queue, chat_operator, settings):
    """Ids repeat between tests (SQLite reuses them after a rollback): a summary kept by
    one event loop must not be shown by the next."""
    settings.CHAT_ROUTING = "manual"
    online(chat_operator)
    session = start(queue, text="Первый вопрос")
    first = asyncio.run(consumers.waiting_line(0.0))
    Ticket.objects.filter(pk=session.ticket_id).update(subject="Другой вопрос")

    second = asyncio.run(consumers.waiting_line(0.0))

    assert first["waiting"][0]["subject"] == "Первый вопрос"
    assert second["waiting"][0]["subject"] == "Другой вопрос"


async def test_a_ping_with_since_sends_again_the_lines_stored_after_it(queue, chat_operator):
    """A line whose push a socket missed (Redis away) reaches it with the next ping."""
    session, token = await _setup(queue, chat_operator)
    citizen, welcome = await _citizen(token)
    since = welcome["lines"][-1]["id"]
    await database_sync_to_async(Message.objects.create)(
        ticket=session.ticket,
        author_kind=Message.Author.OPERATOR,
        author=chat_operator,
        channel=Ticket.Channel.CHAT,
        text="Ответ, чей пуш потерялся",
    )

    await citizen.send_json_to({"type": "ping", "since": since})
    line = await receive_until(citizen, "line")
    await receive_until(citizen, "pong")
    await citizen.send_json_to({"type": "ping", "since": line["line"]["id"]})
    after_nothing_new = await citizen.receive_json_from()
    await citizen.disconnect()

    assert line["line"]["text"] == "Ответ, чей пуш потерялся"
    assert after_nothing_new == {"type": "pong"}
