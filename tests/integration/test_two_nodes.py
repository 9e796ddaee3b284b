"""Two web nodes share nothing but PostgreSQL, Redis and the object store (issue 23).

Two real web processes (`python -m helpdesk.serve`) with *different* MEDIA_ROOTs, one
PostgreSQL test database, one Redis, and one bucket on an S3 server in its own process
(moto's server mode): what a citizen or an operator does through node A is there on node B.
"""

import asyncio
import json
import re

import httpx
import pytest
from django.urls import reverse
from websockets.asyncio.client import connect

from tests.chat.conftest import online
from tests.chat.live import database_url_for_subprocess
from tests.factories import CHAT_OPERATOR, UserFactory
from tests.integration.web_process import start_web_process, stop_web_process
from tests.object_store import free_port, moto_server, new_bucket
from tests.tickets.admin_helpers import make_group, make_operator
from tickets.models import Ticket

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's
CHAT_STARTS_PER_HOUR = 2


@pytest.fixture(scope="module")
def nodes(django_db_setup, tmp_path_factory):
    """(store, node A's URL, node B's URL); each node has a MEDIA_ROOT of its own."""
    from django.conf import settings

    if not settings.REDIS_URL or "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)")
    root = tmp_path_factory.mktemp("two-nodes")
    with moto_server(root / "moto.log") as endpoint:
        store = new_bucket(endpoint, "helpdesk-two-nodes")
        env = {
            **store.env(),
            "CHAT_START_RATE_LIMIT": str(CHAT_STARTS_PER_HOUR),
            "CONN_MAX_AGE": "0",
        }
        started = []
        try:
            for name in ("node-a", "node-b"):
                folder = root / name
                folder.mkdir()
                started.append(
                    start_web_process(
                        folder,
                        port=free_port(),
                        database_url=database_url_for_subprocess(),
                        extra_env=env,
                    )
                )
            yield store, started[0][1], started[1][1], [root / "node-a", root / "node-b"]
        finally:
            for proc, _url in started:
                stop_web_process(proc)


def _sign_in(client: httpx.Client, node: str, username: str) -> None:
    """The admin's real sign-in form on `node` (CSRF cookie and token included)."""
    page = client.get(f"{node}/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = client.post(
        f"{node}/admin/login/?next=/admin/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD},
        headers={"Referer": f"{node}/admin/login/"},
    )
    assert answer.status_code == 302, answer.text[-500:]


def _appeal_with_file(node: str, queue, content: bytes) -> Ticket:
    with httpx.Client() as citizen:
        form = citizen.get(f"{node}/appeal/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        answer = citizen.post(
            f"{node}/appeal/",
            data={
                "csrfmiddlewaretoken": token,
                "full_name": "Петрова Мария Ивановна",
                "email": "maria@example.com",
                "queue": str(queue.pk),
                "kind": Ticket.Kind.PROBLEM,
                "subject": "Скан договора",
                "text": "Прилагаю скан.",
                "consent": "on",
            },
            files={"attachments": ("договор.pdf", content, "application/pdf")},
            headers={"Referer": f"{node}/appeal/"},
        )
    assert answer.status_code == 302, answer.text[-1500:]
    return Ticket.objects.get(subject="Скан договора")


def test_a_file_a_citizen_uploads_through_node_a_is_downloaded_by_an_operator_on_node_b(
    nodes, queue
):
    store, node_a, node_b, media_roots = nodes
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    make_operator("nav-op", groups=[queue.operators_group])
    content = b"%PDF-1.4 " + bytes(range(256)) * 2000

    ticket = _appeal_with_file(node_a, queue, content)
    attachment = ticket.attachments.get()
    with httpx.Client() as operator:
        _sign_in(operator, node_b, "nav-op")
        download = operator.get(
            node_b + reverse("admin:tickets_ticket_attachment", args=[ticket.pk, attachment.pk])
        )

    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert store.keys() == [attachment.file.name]
    assert not [p for root in media_roots for p in (root / "media").rglob("*") if p.is_file()]


def test_a_chat_started_on_node_a_is_answered_from_a_console_on_node_b(nodes, queue):
    _store, node_a, node_b, _roots = nodes
    operator = UserFactory(username="chat-op", permissions=CHAT_OPERATOR)
    online(operator)
    with httpx.Client() as console_client:
        _sign_in(console_client, node_b, "chat-op")
        cookie = "; ".join(f"{k}={v}" for k, v in console_client.cookies.items())

    async def _next(ws, kind: str, **match) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 15))
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def scenario() -> str:
        async with httpx.AsyncClient() as client:
            started = (
                await client.post(
                    f"{node_a}/chat/start/",
                    data={
                        "full_name": "Петрова Мария",
                        "email": "maria@example.com",
                        "queue": str(queue.pk),
                        "text": "Не приходит СМС-код",
                    },
                )
            ).json()
        async with (
            connect(
                node_b.replace("http", "ws") + "/ws/chat/operator/",
                origin=node_b,
                additional_headers={"Cookie": cookie},
            ) as console,
            connect(node_a.replace("http", "ws") + "/ws/chat/", origin=node_a) as citizen,
        ):
            init = await _next(console, "init")
            if not init["chats"]:
                await _next(console, "assigned")
            await citizen.send(json.dumps({"type": "hello", "token": started["token"]}))
            await _next(citizen, "welcome")
            await console.send(
                json.dumps(
                    {"type": "message", "session": started["session"], "seq": 1, "text": "Ответ B"}
                )
            )
            reply = await _next(citizen, "line")
            while reply["line"]["text"] != "Ответ B":
                reply = await _next(citizen, "line")
            return reply["line"]["author_kind"]

    assert asyncio.run(scenario()) == "operator"


def test_a_rate_limit_counted_on_node_a_holds_on_node_b(nodes, queue):
    _store, node_a, node_b, _roots = nodes
    data = {"full_name": "Иванов", "email": "ivanov@example.com", "queue": str(queue.pk)}

    with httpx.Client() as client:
        on_a = [
            client.post(f"{node_a}/chat/start/", data={**data, "text": f"вопрос {i}"})
            for i in range(CHAT_STARTS_PER_HOUR)
        ]
        on_b = client.post(f"{node_b}/chat/start/", data={**data, "text": "ещё один"})

    assert [answer.status_code for answer in on_a] == [200] * CHAT_STARTS_PER_HOUR
    assert on_b.status_code == 429


def test_a_session_signed_in_on_node_a_works_on_node_b(nodes):
    _store, node_a, node_b, _roots = nodes
    UserFactory(username="supervisor-a", is_staff=True, is_superuser=True)

    with httpx.Client() as browser:
        _sign_in(browser, node_a, "supervisor-a")
        index = browser.get(f"{node_b}/admin/")

    # Signed out, node B would answer 302 to the sign-in form (httpx follows no redirect).
    assert index.status_code == 200
    assert 'action="/admin/logout/"' in index.text
