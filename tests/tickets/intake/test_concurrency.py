"""Several doors and workers ingesting at once (PostgreSQL): never two tickets for one
message, never two contacts for one new sender, and no deadlock between batches."""

import threading
import time

import pytest
from django.db import connection, connections

from tickets.intake import context as context_module
from tickets.intake import route as route_module
from tickets.intake.ingest import email_ingest, email_ingest_batch
from tickets.models import Contact, InboundEmail, NumberSequence, Ticket
from tickets.numbering import COUNTER_NAME

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def numbering(queue):
    # transaction=True tests flush the tables, the migration's counter row included.
    NumberSequence.objects.get_or_create(name=COUNTER_NAME)


def _advisory_waiters() -> int:
    """Transactions of this test database queued on an advisory lock (other databases on
    the same server may have their own)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchone()[0]


class Race:
    """Run `first` until it has written a ticket (its locks taken; at once, or with the
    batch's others), start `second`, wait until `second` is blocked on an advisory lock,
    then let both finish."""

    def __init__(self, monkeypatch):
        self.inside = threading.Event()
        self.go = threading.Event()
        self.results: dict[str, object] = {}
        self.errors: list[BaseException] = []
        for module, name in (
            (route_module, "ticket_create"),
            (context_module, "tickets_create_many"),
        ):
            monkeypatch.setattr(module, name, self._paused(getattr(module, name)))

    def _paused(self, real):
        def paused(**kwargs):
            created = real(**kwargs)
            if threading.current_thread().name == "first" and not self.inside.is_set():
                self.inside.set()
                assert self.go.wait(timeout=30)
            return created

        return paused

    def _thread(self, name, work):
        def run():
            try:
                self.results[name] = work()
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                self.errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=run, name=name)

    def run(self, first, second) -> tuple:
        one, two = self._thread("first", first), self._thread("second", second)
        one.start()
        assert self.inside.wait(timeout=30)
        two.start()
        deadline = time.monotonic() + 30
        while _advisory_waiters() == 0:  # the second transaction queues behind the first
            assert time.monotonic() < deadline, "the second ingest did not wait for the lock"
            time.sleep(0.02)
        self.go.set()
        one.join(timeout=60)
        two.join(timeout=60)
        assert self.errors == []
        return self.results["first"], self.results["second"]


def test_the_same_message_through_two_doors_at_once_makes_one_ticket(
    numbering, make_email, monkeypatch
):
    raw = make_email(message_id="<twice@example.com>")
    first, second = Race(monkeypatch).run(
        lambda: email_ingest(raw, source=InboundEmail.Source.PIPE),
        lambda: email_ingest(raw, source=InboundEmail.Source.WEBHOOK),
    )
    assert first.status == "processed"
    assert second.status == "duplicate"
    assert Ticket.objects.count() == 1


def test_the_same_bytes_without_message_id_at_once_make_one_ticket(numbering, monkeypatch):
    raw = b"From: a@example.com\r\nTo: navigator@support.example\r\nSubject: x\r\n\r\nhi\r\n"
    first, second = Race(monkeypatch).run(
        lambda: email_ingest(raw, source=InboundEmail.Source.PIPE),
        lambda: email_ingest(raw, source=InboundEmail.Source.PIPE),
    )
    assert (first.status, second.status) == ("processed", "duplicate")
    assert Ticket.objects.count() == 1


def test_overlapping_batches_in_two_workers_make_one_ticket_per_message(
    numbering, make_email, monkeypatch
):
    raws = [make_email(subject=f"Вопрос {i}", sender=f"c{i}@example.com") for i in range(4)]
    first, second = Race(monkeypatch).run(
        lambda: email_ingest_batch(raws, source=InboundEmail.Source.IMAP),
        # the other worker sees them in the opposite order: no deadlock either
        lambda: email_ingest_batch(raws[::-1], source=InboundEmail.Source.IMAP),
    )
    assert [r.status for r in first] == ["processed"] * 4
    assert [r.status for r in second] == ["duplicate"] * 4
    assert Ticket.objects.count() == 4


def test_two_workers_with_mail_from_one_new_sender_make_one_contact(
    numbering, make_email, monkeypatch
):
    sender = "Новый Человек <new@example.com>"
    first, second = Race(monkeypatch).run(
        lambda: email_ingest_batch(
            [make_email(sender=sender, subject="Первое")], source=InboundEmail.Source.IMAP
        ),
        lambda: email_ingest_batch(
            [make_email(sender=sender, subject="Второе")], source=InboundEmail.Source.IMAP
        ),
    )
    assert [r.status for r in first + second] == ["processed", "processed"]
    assert Contact.objects.filter(email="new@example.com").count() == 1
    assert set(Ticket.objects.values_list("requester__email", flat=True)) == {"new@example.com"}
