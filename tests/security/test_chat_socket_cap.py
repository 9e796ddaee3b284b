"""A chat session holds at most CHAT_MAX_SOCKETS_PER_SESSION sockets: one more is closed
with code 4429; a closed socket frees its place, and so does, after a while, a socket
whose process died without closing it."""

import time

import pytest

from chat import limits
from tests.security.chat_sockets import (  # noqa: F401 - fixtures
    _in_memory_channel_layer,
    _number_counter,
    chat_with_token,
    citizen_socket,
    open_socket,
    send_line,
)

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


async def _refused(token):
    communicator = citizen_socket()
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello", "token": token})
    error = await communicator.receive_json_from(timeout=3)
    closed = await communicator.receive_output(timeout=3)
    return error, closed


@pytest.mark.django_db(transaction=True)
async def test_a_socket_over_the_cap_is_closed_with_4429(queue, operator, settings):
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 3
    _session, token = await chat_with_token(queue, operator)
    sockets = [await open_socket(token) for _ in range(3)]

    error, closed = await _refused(token)
    assert error["type"] == "error" and error["code"] == "too_many_sockets"
    assert closed == {"type": "websocket.close", "code": 4429}

    # The sockets that got in still work.
    assert (await send_line(sockets[0], 1))["type"] == "ack"
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_closed_socket_frees_its_place(queue, operator, settings):
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 2
    _session, token = await chat_with_token(queue, operator)
    first, second = await open_socket(token), await open_socket(token)
    assert (await _refused(token))[1]["code"] == 4429

    await first.disconnect()
    third = await open_socket(token)  # welcomed
    assert (await send_line(third, 1))["type"] == "ack"
    await second.disconnect()
    await third.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_other_chats_are_not_counted(queue, operator, settings):
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 1
    _session, token = await chat_with_token(queue, operator)
    _other, other_token = await chat_with_token(queue, operator, email="ivan@example.com")
    first = await open_socket(token)
    other = await open_socket(other_token)
    await first.disconnect()
    await other.disconnect()


def test_the_place_of_a_socket_that_never_closed_expires(settings, monkeypatch):
    """A process that died keeps no places: slots not refreshed expire on their own."""
    settings.CACHES = LOCMEM  # expiry checked against the clock we move below
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 2
    held = [limits.socket_slot_acquire(session_id=7, owner=f"dead-{i}") for i in range(2)]
    assert all(held)
    assert limits.socket_slot_acquire(session_id=7, owner="new") is None

    later = time.time() + limits.SLOT_TTL_SECONDS + 1
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: later)
    assert limits.socket_slot_acquire(session_id=7, owner="new") is not None


def test_a_refreshed_place_outlives_the_ttl(settings, monkeypatch):
    settings.CACHES = LOCMEM
    settings.CHAT_MAX_SOCKETS_PER_SESSION = 1
    start = time.time()
    slot = limits.socket_slot_acquire(session_id=8, owner="alive")
    clock = {"now": start + limits.SLOT_REFRESH_SECONDS}
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: clock["now"])
    assert limits.socket_slot_refresh(slot)
    clock["now"] = start + limits.SLOT_TTL_SECONDS + 1
    assert limits.socket_slot_acquire(session_id=8, owner="new") is None
    limits.socket_slot_release(slot)
    assert limits.socket_slot_acquire(session_id=8, owner="new") is not None
