"""Row locks between concurrent chat transactions, on PostgreSQL (SQLite has no row locks).

Each test holds a lock in a second thread (its own connection) and checks what the
chat does meanwhile in another.
"""

import threading

import pytest
from django.db import connection, connections, transaction

from chat import lines, services
from chat.models import ChatSession
from tests.chat.conftest import online, start
from tickets.services import ticket_lock

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class HeldLock(threading.Thread):
    """Runs `hold` in a transaction of its own connection and keeps it open until
    `release()`: a routing pass or a line being stored elsewhere at that moment."""

    def __init__(self, hold):
        super().__init__(daemon=True)
        self.hold = hold
        self.held = threading.Event()
        self.done = threading.Event()
        self.error = None

    def run(self):
        try:
            with transaction.atomic():
                self.hold()
                self.held.set()
                self.done.wait(30)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc
            self.held.set()
        finally:
            connections.close_all()

    def __enter__(self):
        self.start()
        self.held.wait(30)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join(30)


def _backend_waits_for_a_lock(thread_connection_pid: list) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", thread_connection_pid
        )
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def test_routing_waits_for_a_waiting_chat_locked_elsewhere_instead_of_skipping_it(
    queue, chat_operator, settings
):
    settings.CHAT_ROUTING = "manual"
    online(chat_operator)
    session = start(queue)  # a slot is free, but nobody has routed the chat yet
    settings.CHAT_ROUTING = "auto"
    routed = []
    router_pid = []

    def route():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            router_pid.append(cursor.fetchone()[0])
        routed.extend(services.chat_route())
        connections.close_all()

    # Another transaction holds the waiting chat's row (a line being stored, a pass
    # that found no operator) while the slot's trigger runs a routing pass.
    with HeldLock(lambda: ChatSession.objects.select_for_update().get(pk=session.pk)):
        router = threading.Thread(target=route, daemon=True)
        router.start()
        # The pass must wait for the row; a pass that skipped it ends at once.
        while router.is_alive() and not (router_pid and _backend_waits_for_a_lock(router_pid)):
            router.join(0.05)
    router.join(30)

    session.refresh_from_db()
    assert session.status == ChatSession.Status.ACTIVE
    assert [s.pk for s in routed] == [session.pk]


def test_a_line_does_not_wait_for_another_chats_ticket_in_the_same_queue(queue, chat_operator):
    online(chat_operator)
    first = start(queue)  # routed to the operator on commit
    second = start(queue, email="ivan@example.com")
    # Someone is changing the first chat's ticket (ticket_lock holds it until commit).
    with HeldLock(lambda: ticket_lock(first.ticket_id)), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '5s'")
        message = lines.chat_citizen_say(session_id=second.pk, seq=1, text="Алло")
    assert message.ticket_id == second.ticket_id
