"""The chat console's websocket passes the same sign-in checks as a staff page: a session
without the second factor it needs is refused, and a session ended by "sign out
everywhere" closes the open console at its next heartbeat (4403)."""

import pytest
from channels.db import database_sync_to_async
from django.contrib.sessions.backends.db import SessionStore
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.chat.conftest import operator_socket, receive_until, session_cookie
from tests.factories import CHAT_OPERATOR, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def _operator():
    return UserFactory(username="chat-op", permissions=CHAT_OPERATOR)


async def _connect(user):
    cookie = await database_sync_to_async(session_cookie)(user)
    communicator = operator_socket(cookie)
    connected, _ = await communicator.connect()
    return communicator, connected, cookie


async def test_a_password_only_session_cannot_open_the_console_when_mfa_is_required(
    queue, settings
):
    settings.STAFF_MFA_REQUIRED = True
    operator = await _operator()
    communicator, connected, _ = await _connect(operator)
    assert not connected


async def test_a_session_of_a_user_with_a_factor_but_no_code_cannot_open_the_console(queue):
    operator = await _operator()
    await database_sync_to_async(TOTPDevice.objects.create)(
        user=operator, name="TOTP", confirmed=True
    )
    communicator, connected, _ = await _connect(operator)
    assert not connected


async def test_signing_out_everywhere_closes_an_open_console(queue, settings):
    operator = await _operator()
    communicator, connected, cookie = await _connect(operator)
    assert connected
    await receive_until(communicator, "init")

    session_key = cookie.decode().split("=", 1)[1]
    await database_sync_to_async(SessionStore(session_key=session_key).delete)()
    await communicator.send_json_to({"type": "heartbeat"})
    error = await receive_until(communicator, "error")
    assert error["code"] == "forbidden"
    closed = await communicator.receive_output(timeout=2)
    assert closed["type"] == "websocket.close" and closed["code"] == 4403
