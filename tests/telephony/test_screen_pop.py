"""The screen pop: a call rings an operator's extension → their admin pages (socket
/ws/telephony/pop/) get the caller's contact and open tickets; nobody else gets anything."""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import reverse

from helpdesk.asgi import application
from telephony.events import cti_event_parse
from telephony.models import CallRecord, OperatorPhone
from telephony.pop import screen_pop_for
from telephony.services import cti_event_record
from tests.chat.conftest import session_cookie
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket

CALL = {"callId": "pop-1", "direction": "in", "from": "8 (912) 345-67-89", "to": "+74950000000"}
ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


def _event(name, **fields):
    body = json.dumps({"event": name, **CALL, **fields}).encode()
    return cti_event_parse(body, "application/json")


def _desk(queue, other_queue):
    """Anna (ext. 201) works the queue, Boris (ext. 202) the other; the caller has a
    ticket in each."""
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    other_queue.operators_group = make_group("Бронирование")
    other_queue.save(update_fields=["operators_group"])
    anna = make_operator("anna", groups=[queue.operators_group])
    boris = make_operator("boris", groups=[other_queue.operators_group])
    OperatorPhone.objects.create(user=anna, extension="201")
    OperatorPhone.objects.create(user=boris, extension="202")
    mine = new_ticket(queue, name="Петрова Мария Ивановна", phone="+79123456789")
    theirs = new_ticket(other_queue, name="Петрова Мария Ивановна", phone="+79123456789")
    return anna, boris, mine, theirs


async def _socket(user):
    headers = [ORIGIN]
    if user is not None:
        cookie = await database_sync_to_async(session_cookie)(user)
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/telephony/pop/", headers=headers)


@pytest.mark.django_db(transaction=True)
async def test_the_rung_operator_gets_the_caller_and_only_tickets_they_may_see(queue, other_queue):
    anna, boris, mine, theirs = await database_sync_to_async(_desk)(queue, other_queue)
    anna_socket, boris_socket = await _socket(anna), await _socket(boris)
    assert (await anna_socket.connect())[0] and (await boris_socket.connect())[0]

    await database_sync_to_async(cti_event_record)(event=_event("newCall", user="201"))

    pop = await anna_socket.receive_json_from(timeout=3)
    assert pop["type"] == "pop" and pop["state"] == "ringing"
    assert pop["number"] == "+79123456789"
    assert [row["number"] for row in pop["tickets"]] == [mine.reference]
    assert pop["contact"]["name"] == "Петрова М. И."  # no personal-data permission
    assert pop["register_url"].endswith("register-call/?q=%2B79123456789")
    assert await boris_socket.receive_nothing(timeout=0.3)
    await anna_socket.disconnect()
    await boris_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_answering_operator_gets_the_pop_when_another_was_rung(queue, other_queue):
    anna, boris, _mine, theirs = await database_sync_to_async(_desk)(queue, other_queue)
    await database_sync_to_async(cti_event_record)(event=_event("newCall", user="201"))
    boris_socket = await _socket(boris)
    assert (await boris_socket.connect())[0]

    await database_sync_to_async(cti_event_record)(event=_event("answer", answeringNumber="202"))

    pop = await boris_socket.receive_json_from(timeout=3)
    assert pop["state"] == "answered"
    assert [row["number"] for row in pop["tickets"]] == [theirs.reference]
    await boris_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_repeated_new_call_does_not_pop_again(queue, other_queue):
    anna, *_ = await database_sync_to_async(_desk)(queue, other_queue)
    await database_sync_to_async(cti_event_record)(event=_event("newCall", user="201"))
    anna_socket = await _socket(anna)
    assert (await anna_socket.connect())[0]

    await database_sync_to_async(cti_event_record)(event=_event("newCall", user="201"))

    assert await anna_socket.receive_nothing(timeout=0.3)
    await anna_socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_socket_without_a_staff_session_is_refused(queue):
    socket = await _socket(None)

    connected, code = await socket.connect()

    assert not connected and code == 4403


@pytest.mark.django_db
def test_the_panel_is_refused_to_an_operator_the_call_did_not_ring(queue, other_queue):
    anna, boris, *_ = _desk(queue, other_queue)
    record = cti_event_record(event=_event("newCall", user="201"))

    assert screen_pop_for(boris, record.pk) is None
    assert screen_pop_for(anna, record.pk)["call"] == "pop-1"


@pytest.mark.django_db
def test_admin_pages_carry_the_pop_only_for_operators_with_an_extension(client, queue, other_queue):
    anna, *_ = _desk(queue, other_queue)
    nobody = make_operator("no-phone", groups=[queue.operators_group])
    url = reverse("admin:index")

    client.force_login(anna)
    assert 'id="screen-pop"' in client.get(url).content.decode()
    client.force_login(nobody)
    assert 'id="screen-pop"' not in client.get(url).content.decode()


@pytest.mark.django_db
def test_the_call_remembers_whom_it_rang(queue, other_queue):
    anna, *_ = _desk(queue, other_queue)

    cti_event_record(event=_event("newCall", user="201"))

    assert CallRecord.objects.get().rang_for == anna
