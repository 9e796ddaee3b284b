"""The operator console is for chat operators of the chat's queue: the permission
`chat.operate_chat` to connect, membership of the queue to see and accept a chat,
`view_personal_data` to see waiting citizens' contacts; rights are re-read on heartbeat."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission

from chat.models import ChatSession
from tests.chat.conftest import online, operator_socket, receive_until, session_cookie, start
from tests.factories import CHAT_OPERATOR, UserFactory
from tests.tickets.admin_helpers import make_group

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    communicator = operator_socket(cookie)
    connected, _ = await communicator.connect()
    return communicator, connected


@database_sync_to_async
def _two_queues(queue, other_queue):
    """Navigator worked by one group, booking by another; a chat waits in booking."""
    for q, name in ((queue, "Навигатор"), (other_queue, "Бронирование")):
        q.operators_group = make_group(name)
        q.save(update_fields=["operators_group"])
    navigator_op = UserFactory(username="nav-op", permissions=CHAT_OPERATOR)
    navigator_op.groups.add(queue.operators_group)
    online(navigator_op)
    return navigator_op, start(other_queue, email="petr@example.com", phone="+79001112233")


async def test_staff_without_the_chat_permission_cannot_connect_the_console(queue):
    clerk = await database_sync_to_async(UserFactory)(username="kb-editor")
    communicator, connected = await _connect(clerk)
    assert not connected


def test_the_console_page_is_refused_without_the_chat_permission(client, queue):
    client.force_login(UserFactory(username="kb-editor"))
    assert client.get("/admin/chat/chatsession/console/").status_code == 403


async def test_an_operator_of_another_queue_neither_sees_nor_accepts_the_chat(
    queue, other_queue, settings
):
    settings.CHAT_ROUTING = "manual"
    navigator_op, session = await _two_queues(queue, other_queue)
    communicator, connected = await _connect(navigator_op)
    assert connected
    init = await receive_until(communicator, "init")
    assert init["waiting"] == [] and init["count"] == 0

    await communicator.send_json_to({"type": "accept", "session": session.pk})
    error = await receive_until(communicator, "error")
    assert error["code"] == "forbidden"
    session = await database_sync_to_async(ChatSession.objects.get)(pk=session.pk)
    assert session.status == ChatSession.Status.WAITING and session.operator_id is None
    await communicator.disconnect()


async def test_waiting_contacts_are_masked_without_view_personal_data(queue, settings):
    settings.CHAT_ROUTING = "manual"
    operator = await database_sync_to_async(UserFactory)(
        username="chat-op", permissions=CHAT_OPERATOR
    )
    await database_sync_to_async(online)(operator)
    await database_sync_to_async(start)(queue, email="maria@example.com", phone="+79001234567")
    communicator, _ = await _connect(operator)
    init = await receive_until(communicator, "init")
    [waiting] = init["waiting"]
    assert waiting["email"] == "m***@example.com"
    assert "1234567" not in waiting["phone"]
    await communicator.disconnect()

    full = await database_sync_to_async(UserFactory)(
        username="chat-op-pd", permissions=(*CHAT_OPERATOR, "tickets.view_personal_data")
    )
    communicator, _ = await _connect(full)
    init = await receive_until(communicator, "init")
    assert init["waiting"][0]["email"] == "maria@example.com"
    await communicator.disconnect()


async def test_the_console_is_closed_with_4403_when_the_permission_is_taken_away(queue):
    operator = await database_sync_to_async(UserFactory)(
        username="chat-op", permissions=CHAT_OPERATOR
    )
    communicator, connected = await _connect(operator)
    assert connected
    await receive_until(communicator, "init")

    @database_sync_to_async
    def revoke():
        operator.user_permissions.remove(Permission.objects.get(codename="operate_chat"))

    await revoke()
    await communicator.send_json_to({"type": "heartbeat"})
    error = await receive_until(communicator, "error")
    assert error["code"] == "forbidden"
    closed = await communicator.receive_output(timeout=2)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403


def test_chats_are_never_routed_to_staff_without_the_chat_permission(queue):
    online(UserFactory(username="kb-editor"))
    session = start(queue)
    assert session.status == ChatSession.Status.OFFLINE
    assert session.operator_id is None
