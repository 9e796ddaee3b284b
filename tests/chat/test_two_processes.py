"""Two real daphne processes sharing the Redis channel layer and PostgreSQL: the citizen
on process A, the operator on process B."""

import asyncio
import json

import httpx
import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chat.models import ChatSession
from tests.chat.conftest import online
from tests.chat.live import PORTS, daphne_processes
from tests.factories import CHAT_OPERATOR, UserFactory
from tickets.models import Message

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def servers(tmp_path):
    with daphne_processes(PORTS["integration"], media_root=tmp_path / "media") as urls:
        yield urls


def _ws(url: str) -> str:
    return url.replace("http://", "ws://")


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _next(ws, kind: str, timeout: float = 10, **match) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


def test_citizen_on_one_process_and_operator_on_another_talk_both_ways(queue, servers):
    process_a, process_b = servers
    operator = UserFactory(username="op-b", first_name="Анна", permissions=CHAT_OPERATOR)
    online(operator)
    cookie = _session_cookie(operator)
    queue_id = str(queue.pk)

    async def scenario():
        async with httpx.AsyncClient() as client:
            started = (
                await client.post(
                    f"{process_a}/chat/start/",
                    data={
                        "full_name": "Петрова Мария",
                        "email": "maria@example.com",
                        "queue": queue_id,
                        "text": "Не приходит СМС-код",
                    },
                )
            ).json()
        assert started["status"] == "waiting"
        async with (
            connect(
                f"{_ws(process_b)}/ws/chat/operator/",
                origin=process_b,
                additional_headers={"Cookie": cookie},
            ) as op,
            connect(f"{_ws(process_a)}/ws/chat/", origin=process_a) as citizen,
        ):
            init = await _next(op, "init")
            if not init["chats"]:  # routed just after the console connected
                await _next(op, "assigned")
            await citizen.send(json.dumps({"type": "hello", "token": started["token"]}))
            welcome = await _next(citizen, "welcome")
            assert welcome["number"] == started["number"]

            await citizen.send(json.dumps({"type": "message", "seq": 1, "text": "Алло, A→B"}))
            got = await _next(op, "line", session=started["session"])
            while got["line"]["text"] != "Алло, A→B":
                got = await _next(op, "line", session=started["session"])

            await op.send(
                json.dumps(
                    {
                        "type": "message",
                        "session": started["session"],
                        "seq": 1,
                        "text": "Отвечаю, B→A",
                    }
                )
            )
            reply = await _next(citizen, "line")
            while reply["line"]["text"] != "Отвечаю, B→A":
                reply = await _next(citizen, "line")
            assert reply["line"]["author_kind"] == "operator"
        return started

    started = asyncio.run(scenario())
    session = ChatSession.objects.get(pk=started["session"])
    assert list(
        Message.objects.filter(ticket=session.ticket)
        .order_by("id")
        .values_list("author_kind", "text")
    ) == [
        ("requester", "Не приходит СМС-код"),
        ("requester", "Алло, A→B"),
        ("operator", "Отвечаю, B→A"),
    ]


def test_a_foreign_origin_is_refused_by_a_real_server(servers):
    process_a, _ = servers

    async def scenario():
        with pytest.raises(InvalidStatus) as exc:
            async with connect(f"{_ws(process_a)}/ws/chat/", origin="https://evil.example"):
                pass
        return exc.value.response.status_code

    assert asyncio.run(scenario()) == 403


def test_one_citizen_cannot_read_another_citizens_chat(queue, servers):
    process_a, process_b = servers
    operator = UserFactory(username="op-c", permissions=CHAT_OPERATOR)
    online(operator, max_chats=5)
    queue_id = str(queue.pk)

    async def scenario():
        async with httpx.AsyncClient() as client:
            first, second = [
                (
                    await client.post(
                        f"{process_a}/chat/start/",
                        data={"full_name": name, "email": email, "queue": queue_id, "text": text},
                    )
                ).json()
                for name, email, text in (
                    ("Первый", "first@example.com", "вопрос первого"),
                    ("Второй", "second@example.com", "вопрос второго"),
                )
            ]
        async with (
            connect(f"{_ws(process_a)}/ws/chat/", origin=process_a) as one,
            connect(f"{_ws(process_b)}/ws/chat/", origin=process_b) as two,
        ):
            await one.send(json.dumps({"type": "hello", "token": first["token"]}))
            await two.send(json.dumps({"type": "hello", "token": second["token"]}))
            welcome_one = await _next(one, "welcome")
            welcome_two = await _next(two, "welcome")
            await one.send(json.dumps({"type": "message", "seq": 1, "text": "секрет первого"}))
            await _next(one, "ack")
            # The second citizen sees only their own lines, now and later.
            await two.send(json.dumps({"type": "ping"}))
            frames = []
            try:
                while True:
                    frames.append(json.loads(await asyncio.wait_for(two.recv(), 1.5)))
            except TimeoutError:
                pass
        return welcome_one, welcome_two, frames

    welcome_one, welcome_two, frames = asyncio.run(scenario())
    assert [line["text"] for line in welcome_two["lines"]] == ["вопрос второго"]
    assert "вопрос второго" not in [line["text"] for line in welcome_one["lines"]]
    seen = json.dumps(frames, ensure_ascii=False)
    assert "секрет первого" not in seen
    assert "вопрос первого" not in seen


def test_an_idle_socket_still_gets_lines_after_the_redis_read_timeout(queue, servers):
    """Regression: redis-py's 5 s read timeout must not kill consumers idle in BZPOPMIN."""
    process_a, process_b = servers
    operator = UserFactory(username="op-idle", permissions=CHAT_OPERATOR)
    online(operator)
    cookie = _session_cookie(operator)
    queue_id = str(queue.pk)

    async def scenario():
        async with httpx.AsyncClient() as client:
            started = (
                await client.post(
                    f"{process_a}/chat/start/",
                    data={
                        "full_name": "Тихий",
                        "email": "idle@example.com",
                        "queue": queue_id,
                        "text": "Жду",
                    },
                )
            ).json()
        async with (
            connect(
                f"{_ws(process_b)}/ws/chat/operator/",
                origin=process_b,
                additional_headers={"Cookie": cookie},
            ) as op,
            connect(f"{_ws(process_a)}/ws/chat/", origin=process_a) as citizen,
        ):
            await _next(op, "init")
            await citizen.send(json.dumps({"type": "hello", "token": started["token"]}))
            await _next(citizen, "welcome")
            await asyncio.sleep(8)  # longer than redis-py's default socket timeout
            await op.send(
                json.dumps(
                    {
                        "type": "message",
                        "session": started["session"],
                        "seq": 1,
                        "text": "Вы ещё здесь?",
                    }
                )
            )
            reply = await _next(citizen, "line")
            while reply["line"]["text"] != "Вы ещё здесь?":
                reply = await _next(citizen, "line")
            return reply

    assert asyncio.run(scenario())["line"]["author_kind"] == "operator"
