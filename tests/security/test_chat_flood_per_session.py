"""The citizen chat's flood limit counts the lines of a chat session, not of a socket:
opening more sockets with the same chat token buys no more lines."""

import pytest

from tests.security.chat_sockets import (  # noqa: F401 - fixtures
    _in_memory_channel_layer,
    _number_counter,
    chat_with_token,
    line_count,
    open_socket,
    send_line,
)

pytestmark = pytest.mark.django_db(transaction=True)


async def test_lines_sent_over_several_sockets_share_one_allowance(queue, operator, settings):
    settings.CHAT_RATE_LIMIT = 3
    session, token = await chat_with_token(queue, operator)
    first, second = await open_socket(token), await open_socket(token)

    assert (await send_line(first, 1))["type"] == "ack"
    assert (await send_line(second, 2))["type"] == "ack"
    assert (await send_line(first, 3))["type"] == "ack"
    refused = await send_line(second, 4)
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert refused["seq"] == 4
    refused = await send_line(first, 5)
    assert refused["type"] == "error" and refused["code"] == "rate_limited"
    assert await line_count(session.ticket_id) == 1 + 3  # the opening line + three
    await first.disconnect()
    await second.disconnect()


async def test_another_chat_keeps_its_own_allowance(queue, operator, settings):
    settings.CHAT_RATE_LIMIT = 2
    _session, token = await chat_with_token(queue, operator)
    _other, other_token = await chat_with_token(queue, operator, email="ivan@example.com")
    flooder, other = await open_socket(token), await open_socket(other_token)
    for seq in (1, 2):
        assert (await send_line(flooder, seq))["type"] == "ack"
    assert (await send_line(flooder, 3))["code"] == "rate_limited"
    assert (await send_line(other, 1))["type"] == "ack"
    await flooder.disconnect()
    await other.disconnect()
