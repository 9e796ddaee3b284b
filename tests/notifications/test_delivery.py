"""Batch delivery: one claim and one mail connection per batch, one commit per mail,
and still never a row sent twice or lost."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications import delivery
from notifications.delivery import (
    BATCH_SIZE,
    notification_claim,
    notifications_claim,
    notifications_send_owed,
)
from notifications.models import Notification
from notifications.services import notification_enqueue
from tests.notifications.batch_backend import EmailBackend as BatchBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def backend(settings):
    settings.EMAIL_BACKEND = "tests.notifications.batch_backend.EmailBackend"
    BatchBackend.opened, BatchBackend.refuse, BatchBackend.on_send = 0, set(), None
    yield BatchBackend
    BatchBackend.opened, BatchBackend.refuse, BatchBackend.on_send = 0, set(), None


def _backlog(count: int, prefix: str = "b") -> list[Notification]:
    """Rows left pending: their on-commit publish never runs in a test transaction, as
    when a worker is behind."""
    return [
        notification_enqueue(
            recipient=f"{prefix}{n}@example.com",
            template="auto_reply",
            kind=Notification.Kind.AUTO_REPLY,
            idempotency_key=f"{prefix}:{n}",
            context={"number": f"SP-{n:04d}", "name": "Мария", "due": "завтра"},
            reference=f"SP-{n:04d}",
        )
        for n in range(count)
    ]


def _statuses(rows) -> list[str]:
    return list(
        Notification.objects.filter(pk__in=[r.pk for r in rows])
        .order_by("pk")
        .values_list("status", flat=True)
    )


def test_one_task_sends_the_backlog_as_a_batch_over_one_connection(backend):
    rows = _backlog(20)

    result = notifications_send_owed(notification_ids=[rows[5].pk])

    assert result[Notification.Status.SENT] == 20
    assert backend.opened == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"b{n}@example.com" for n in range(20))
    assert set(_statuses(rows)) == {Notification.Status.SENT}
    # The other rows' own tasks, arriving later, find nothing to send.
    assert notifications_send_owed(notification_ids=[rows[0].pk])[Notification.Status.SENT] == 0
    assert len(mail.outbox) == 20


def test_a_batch_is_claimed_at_once_and_each_mail_costs_one_statement(backend):
    rows = _backlog(20)

    with CaptureQueriesContext(connection) as queries:
        notifications_send_owed(notification_ids=[rows[0].pk])

    selects = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    updates = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert len(mail.outbox) == 20
    assert len(selects) <= 3  # given ids, owed rows, the claimed rows
    # The claim; one per mail (its hand-off, with the previous mail's "sent" in the same
    # statement); the last mail's "sent".
    assert len(updates) == 1 + 20 + 1


def test_a_batch_takes_at_most_batch_size_rows(backend):
    _backlog(BATCH_SIZE + 7)

    notifications_send_owed()

    assert len(mail.outbox) == BATCH_SIZE
    assert Notification.objects.filter(status=Notification.Status.PENDING).count() == 7


def test_fill_leaves_rows_waiting_out_their_retry_backoff(backend):
    waiting, fresh = _backlog(2)
    Notification.objects.filter(pk=waiting.pk).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )

    notifications_send_owed()

    assert [m.to[0] for m in mail.outbox] == [fresh.recipient]
    waiting.refresh_from_db()
    assert waiting.status == Notification.Status.PENDING
    assert waiting.attempts == 1


def test_a_claimed_row_is_not_claimed_again_by_another_batch(backend):
    rows = _backlog(3)
    first = notifications_claim([rows[0].pk], fill=BATCH_SIZE)

    assert [r.pk for r in first] == [r.pk for r in rows]
    assert notifications_claim([rows[0].pk], fill=BATCH_SIZE) == []
    assert notification_claim(rows[1].pk) is None


def test_a_refused_mail_is_retried_alone_and_the_rest_of_the_batch_is_sent(backend):
    rows = _backlog(5)
    backend.refuse = {"b2@example.com"}

    result = notifications_send_owed()

    assert result[Notification.Status.SENT] == 4
    assert result[Notification.Status.PENDING] == 1
    refused = Notification.objects.get(pk=rows[2].pk)
    assert refused.status == Notification.Status.PENDING
    assert refused.handed_off_at is None
    assert "refused" in refused.last_error
    assert refused.next_attempt_at > timezone.now()
    assert backend.opened == 2  # a fresh connection after the broken one
    assert sorted(m.to[0] for m in mail.outbox) == [r.recipient for r in rows if r != rows[2]]


def test_at_most_one_row_of_a_batch_is_ever_handed_off_but_not_marked_sent(backend):
    """What a worker killed at any moment leaves: every mail already delivered is marked
    sent except the one being handed over, so the sweeper parks at most that one."""
    rows = _backlog(6)
    seen = []

    def look(message):
        in_flight = Notification.objects.filter(
            status=Notification.Status.SENDING, handed_off_at__isnull=False
        )
        delivered = {m.to[0] for m in mail.outbox}
        sent = set(
            Notification.objects.filter(status=Notification.Status.SENT).values_list(
                "recipient", flat=True
            )
        )
        seen.append((list(in_flight.values_list("recipient", flat=True)), len(delivered - sent)))

    backend.on_send = staticmethod(look)
    notifications_send_owed()

    assert len(mail.outbox) == 6
    assert [in_flight for in_flight, _ in seen] == [[r.recipient] for r in rows]
    # Delivered but not yet marked: only the previous mail, marked in the next hand-off's commit.
    assert all(unmarked <= 1 for _, unmarked in seen)
    assert set(_statuses(rows)) == {Notification.Status.SENT}


def test_a_batch_past_its_time_budget_gives_the_rest_back_untried(backend, monkeypatch):
    rows = _backlog(4)
    monkeypatch.setattr(delivery, "BATCH_SECONDS", -1)

    result = notifications_send_owed()

    assert result[Notification.Status.SENT] == 0
    assert mail.outbox == []
    for row in Notification.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.status == Notification.Status.PENDING
        assert row.attempts == 0
        assert row.handed_off_at is None


def test_a_connection_that_cannot_open_sends_nothing_and_retries_every_row(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.DownBackend"
    rows = _backlog(3)

    result = notifications_send_owed()

    assert result[Notification.Status.PENDING] == 3
    for row in Notification.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.attempts == 1
        assert row.handed_off_at is None
        assert "down" in row.last_error


class DownBackend(BatchBackend):
    def open(self):
        raise ConnectionRefusedError("mail server down")
