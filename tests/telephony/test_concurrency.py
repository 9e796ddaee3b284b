"""Missed calls from one number arriving at once on PostgreSQL: one call-back, and the
same call's events racing make one call record."""

import json
import threading

import pytest
from django.db import connection

from telephony.events import cti_event_parse
from telephony.models import CallRecord
from telephony.services import cti_event_record
from tests.factories import QueueFactory
from tickets.models import CallbackRequest

THREADS = 6


def _event(name: str, call_id: str):
    fields = {"event": name, "callId": call_id, "direction": "in", "from": "+79123456789"}
    return cti_event_parse(json.dumps(fields).encode(), "application/json")


def _race(work) -> list[BaseException]:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_missed_calls_from_one_number_at_once_make_one_callback():
    QueueFactory(slug="navigator")

    errors = _race(lambda n: cti_event_record(event=_event("hangup", f"race-{n}")))

    assert errors == []
    assert CallRecord.objects.filter(missed=True).count() == THREADS
    assert CallbackRequest.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_racing_makes_one_record():
    QueueFactory(slug="navigator")

    errors = _race(lambda n: cti_event_record(event=_event("newCall", "same-call")))

    assert errors == []
    assert CallRecord.objects.count() == 1
