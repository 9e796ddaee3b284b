"""Helpers for the chat tests: an online operator, a started chat, socket clients."""

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from chat import services
from chat.models import OperatorPresence
from helpdesk.asgi import application
from tests.factories import CHAT_OPERATOR, UserFactory

ORIGIN = (b"origin", b"http://testserver")


def online(user, max_chats: int = 3) -> OperatorPresence:
    return services.presence_set(
        user=user, availability=OperatorPresence.Availability.ONLINE, max_chats=max_chats
    )


def start(queue, **kwargs):
    params = {
        "queue": queue,
        "full_name": "Петрова Мария",
        "email": "maria@example.com",
        "text": "Не приходит СМС-код",
    }
    params.update(kwargs)
    return services.chat_start(**params)


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def citizen_socket(origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    return WebsocketCommunicator(application, "/ws/chat/", headers=[(b"origin", origin)])


def operator_socket(cookie: bytes | None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if cookie:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/chat/operator/", headers=headers)


async def receive_until(communicator, kind: str, timeout: float = 3, **match) -> dict:
    """The next frame of this type (and matching fields), skipping others."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """In-process consumer tests use the in-memory layer (each test has its own event
    loop; a cached Redis layer is bound to the first one). The real Redis layer is
    exercised across real server processes in test_two_processes.py."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
def chat_operator(db):
    return UserFactory(
        username="chatop", first_name="Анна", last_name="Смирнова", permissions=CHAT_OPERATOR
    )


@pytest.fixture(autouse=True)
def _number_counter(request):
    """Transactional tests flush tables, the SQLite ticket counter row included."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker(
        "django_db"
    ):
        return
    from django.db import connection

    from tickets.models import NumberSequence
    from tickets.numbering import COUNTER_NAME

    request.getfixturevalue("_django_db_helper")
    if connection.vendor != "postgresql":
        NumberSequence.objects.get_or_create(name=COUNTER_NAME)
