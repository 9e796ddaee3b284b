"""Citizen-socket helpers shared by the chat flood tests. Test modules import the chat
suite's autouse fixtures from here too (in-memory channel layer, ticket counter)."""

from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission

from chat.models import ChatSession
from chat.selectors import chat_token_for
from tests.chat.conftest import (  # noqa: F401 - fixtures for the importing modules
    _in_memory_channel_layer,
    _number_counter,
    citizen_socket,
    online,
    receive_until,
    start,
)
from tickets.models import Message


@database_sync_to_async
def chat_with_token(queue, operator, email="maria@example.com"):
    # An operator on the line (chat.operate_chat), so the chat waits rather than going offline.
    operator.user_permissions.add(Permission.objects.get(codename="operate_chat"))
    online(operator)
    session = ChatSession.objects.get(pk=start(queue, email=email).pk)
    return session, chat_token_for(session)


@database_sync_to_async
def line_count(ticket_id):
    return Message.objects.filter(ticket_id=ticket_id).count()


async def open_socket(token):
    """A citizen socket that said hello and got its welcome."""
    communicator = citizen_socket()
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello", "token": token})
    await receive_until(communicator, "welcome")
    return communicator


async def send_line(communicator, seq):
    """Send one line; the answer to it ("ack" or "error")."""
    await communicator.send_json_to({"type": "message", "seq": seq, "text": f"строка {seq}"})
    while True:
        frame = await communicator.receive_json_from(timeout=3)
        if frame["type"] in ("ack", "error"):
            return frame
