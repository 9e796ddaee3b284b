"""The Asterisk bridge against a fake AMI server speaking the real protocol: events become
the same call records as the webhook's, across a dropped connection."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from telephony.ami import AmiCallTracker, AmiError, ami_block
from telephony.bridge import ami_bridge_run
from telephony.models import CallRecord, OperatorPhone
from telephony.services import cti_event_record
from tests.factories import UserFactory
from tests.telephony.fake_ami import FakeAmi
from tickets.models import CallbackRequest

CALLER = {"Linkedid": "1733450000.1", "CallerIDNum": "89123456789"}
INBOUND = {"from-trunk"}
NEW = {
    "Event": "Newchannel",
    "Channel": "PJSIP/trunk-00000001",
    "Uniqueid": "1733450000.1",
    "Context": "from-trunk",
    "Exten": "4950000000",
    **CALLER,
}
DIAL = {
    "Event": "DialBegin",
    "Channel": "PJSIP/trunk-00000001",
    "Uniqueid": "1733450000.1",
    "DestChannel": "PJSIP/201-00000002",
    **CALLER,
}
AGENT_BRIDGED = {
    "Event": "BridgeEnter",
    "Channel": "PJSIP/201-00000002",
    "Uniqueid": "1733450000.2",
    **CALLER,
}
HANGUP_ANSWERED = {"Event": "Hangup", "Uniqueid": "1733450000.1", "Cause": "16", **CALLER}
HANGUP_GAVE_UP = {"Event": "Hangup", "Uniqueid": "1733450000.1", "Cause": "0", **CALLER}


async def _bridge(fake: FakeAmi, *, events: int, secret: str = "s3cret") -> list:
    """Run the bridge until it has applied `events` CTI events; return them."""
    port = await fake.start()
    stop, seen = asyncio.Event(), []

    async def handle(event):
        await database_sync_to_async(cti_event_record)(event=event)
        seen.append(event)
        if len(seen) == events:
            stop.set()

    run = ami_bridge_run(
        host="127.0.0.1",
        port=port,
        user="helpdesk",
        secret=secret,
        inbound_contexts=frozenset(INBOUND),
        handle=handle,
        stop=stop,
        backoff_first=0.05,
    )
    await asyncio.wait_for(run, timeout=10)
    await fake.stop()
    return seen


@pytest.mark.django_db(transaction=True)
async def test_an_answered_call_survives_a_dropped_connection(queue):
    operator = await database_sync_to_async(UserFactory)(username="anna")
    await database_sync_to_async(OperatorPhone.objects.create)(user=operator, extension="201")
    fake = FakeAmi(secret="s3cret", scripts=[[NEW, DIAL, AGENT_BRIDGED], [HANGUP_ANSWERED]])

    seen = await _bridge(fake, events=4)

    assert [e.event for e in seen] == ["newCall", "newCall", "answer", "hangup"]
    assert len(fake.logins) == 2  # reconnected after the drop
    assert fake.logins[0]["Action"] == "Login" and fake.logins[0]["Username"] == "helpdesk"
    record = await database_sync_to_async(CallRecord.objects.select_related("operator").get)()
    assert record.call_id == "1733450000.1" and record.from_number == "+79123456789"
    assert record.operator == operator and record.rang_for_id == operator.pk
    assert record.cause == "normalClearing" and not record.missed


@pytest.mark.django_db(transaction=True)
async def test_an_inbound_call_nobody_answered_becomes_a_callback(queue):
    fake = FakeAmi(secret="s3cret", scripts=[[NEW, DIAL, HANGUP_GAVE_UP]])

    await _bridge(fake, events=3)

    record = await database_sync_to_async(CallRecord.objects.get)()
    assert record.missed and record.cause == "cancel"
    assert await database_sync_to_async(CallbackRequest.objects.count)() == 1


async def test_a_refused_login_is_retried_until_stopped():
    fake = FakeAmi(secret="right", scripts=[[NEW]])
    port = await fake.start()
    stop = asyncio.Event()

    async def handle(event):  # pragma: no cover - the login never succeeds
        raise AssertionError(event)

    task = asyncio.ensure_future(
        ami_bridge_run(
            host="127.0.0.1",
            port=port,
            user="helpdesk",
            secret="wrong",
            inbound_contexts=frozenset(INBOUND),
            handle=handle,
            stop=stop,
            backoff_first=0.01,
        )
    )
    while len(fake.logins) < 3:
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    await fake.stop()
    assert {login["Secret"] for login in fake.logins} == {"wrong"}


def test_an_outbound_call_is_answered_by_the_operator_who_placed_it():
    tracker = AmiCallTracker(inbound_contexts=frozenset(INBOUND))
    linked = {"Linkedid": "9.1", "CallerIDNum": "201"}
    new = tracker.feed(
        {
            "Event": "Newchannel",
            "Channel": "PJSIP/201-0000000a",
            "Uniqueid": "9.1",
            "Context": "from-internal",
            "Exten": "89123456789",
            **linked,
        }
    )
    answer = tracker.feed(
        {"Event": "BridgeEnter", "Channel": "PJSIP/trunk-0000000b", "Uniqueid": "9.2", **linked}
    )

    assert (new.direction, new.to_number) == ("out", "89123456789")
    assert (answer.event, answer.answering_number) == ("answer", "201")


def test_a_line_break_in_an_ami_value_is_refused():
    with pytest.raises(AmiError):
        ami_block(Action="Originate", Exten="100\r\nAction: Command")
