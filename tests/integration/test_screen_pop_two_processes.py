"""The screen pop across two real daphne processes sharing PostgreSQL and the Redis
channel layer (issue 17): the phone platform posts a signed CTI event to process A, the
operators' admin pages hold their pop sockets on process B. The operator whose extension
rings gets the pop, within a second; another operator's socket gets nothing."""

import asyncio
import json
import time

import httpx
import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from telephony.models import CallRecord
from telephony.signing import cti_signature
from tests.chat.live import daphne_processes
from tests.telephony.test_screen_pop import _desk as screen_pop_desk

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

SECRET = "two-process-cti-secret-0123456789"
PORTS = (8631, 8632)  # their own: the chat's two-process tests use 8611/8612


@pytest.fixture
def servers(tmp_path):
    with daphne_processes(
        PORTS, media_root=tmp_path / "media", extra_env={"CTI_SECRET": SECRET}
    ) as urls:
        yield urls


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _signed(fields: dict) -> tuple[bytes, dict]:
    body = json.dumps(fields).encode()
    timestamp = str(int(time.time()))
    return body, {
        "Content-Type": "application/json",
        "X-CTI-Timestamp": timestamp,
        "X-CTI-Signature": cti_signature(secret=SECRET, timestamp=timestamp, body=body),
    }


def test_a_call_posted_to_one_process_pops_on_the_rung_operators_socket_on_the_other(
    queue, other_queue, servers
):
    process_a, process_b = servers
    # Anna (ext. 201) and Boris (ext. 202), each with a ticket of the caller in their queue.
    anna, boris, ticket, _theirs = screen_pop_desk(queue, other_queue)
    cookies = {"anna": _session_cookie(anna), "boris": _session_cookie(boris)}
    ws_b = process_b.replace("http://", "ws://") + "/ws/telephony/pop/"
    body, headers = _signed(
        {
            "event": "newCall",
            "callId": "two-proc-1",
            "direction": "in",
            "from": "8 (912) 345-67-89",
            "to": "+74950000000",
            "user": "201",
        }
    )

    async def scenario():
        async with (
            connect(ws_b, origin=process_b, additional_headers={"Cookie": cookies["anna"]}) as a,
            connect(ws_b, origin=process_b, additional_headers={"Cookie": cookies["boris"]}) as b,
        ):
            # Both sockets are joined to their groups once the handshake is done.
            async with httpx.AsyncClient() as client:
                posted_at = time.monotonic()
                response = await client.post(
                    f"{process_a}/telephony/cti/", content=body, headers=headers
                )
            assert response.status_code == 200, response.text
            pop = json.loads(await asyncio.wait_for(a.recv(), 5))
            elapsed = time.monotonic() - posted_at
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(b.recv(), 1)
            return pop, elapsed

    pop, elapsed = asyncio.run(scenario())

    assert pop["type"] == "pop" and pop["state"] == "ringing"
    assert pop["number"] == "+79123456789"
    assert [row["number"] for row in pop["tickets"]] == [ticket.reference]
    assert elapsed < 1.0  # "within a second" (issue 17, item 5)
    assert CallRecord.objects.get(call_id="two-proc-1").from_number == "+79123456789"
