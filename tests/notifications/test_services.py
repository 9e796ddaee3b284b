"""The outbox: enqueue with the change, send on commit, never twice, never lost."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.delivery import (
    notification_build_email,
    notification_claim,
    notification_send,
    outbox_sweep,
)
from notifications.models import Notification
from notifications.services import (
    make_message_id,
    message_id_verify,
    notification_by_message_id,
    notification_enqueue,
    notification_enqueue_many,
    notification_resend,
    notifications_publish_together,
)

pytestmark = pytest.mark.django_db


def _enqueue(key="k1", recipient="maria@example.com", kind=Notification.Kind.AUTO_REPLY, **kw):
    defaults = {
        "template": "auto_reply",
        "context": {"number": "SP-0042", "name": "Мария", "due": "завтра", "sla_hours": 24},
        "reference": "SP-0042",
    }
    defaults.update(kw)
    return notification_enqueue(recipient=recipient, kind=kind, idempotency_key=key, **defaults)


def _status(notification: Notification) -> str:
    notification.refresh_from_db()
    return notification.status


def test_enqueue_sends_after_commit_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification = _enqueue()
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1
    assert _status(notification) == Notification.Status.SENT


def test_rolled_back_transaction_leaves_no_row_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        _enqueue()
        raise RuntimeError("the change failed")
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_same_idempotency_key_gives_one_row_and_one_mail(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _enqueue(key="ticket:1:received")
        second = _enqueue(key="ticket:1:received")
    assert first.pk == second.pk
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_repeated_key_inside_a_transaction_keeps_the_transaction_usable():
    # The duplicate is skipped by the INSERT itself: no IntegrityError poisons the
    # caller's transaction, so it can go on writing.
    with transaction.atomic():
        first = _enqueue(key="ticket:7:resolved")
        second = _enqueue(key="ticket:7:resolved")
        third = _enqueue(key="ticket:7:other")
    assert first.pk == second.pk != third.pk
    assert Notification.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_of_one_key_make_one_row():
    import threading

    from django.db import connection

    count = 8
    barrier = threading.Barrier(count)
    ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def enqueue() -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=30)
                row = _enqueue(key="ticket:9:received")
            with lock:
                ids.append(row.pk)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=enqueue) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(ids)) == 1
    assert Notification.objects.filter(idempotency_key="ticket:9:received").count() == 1


def test_rows_enqueued_together_share_one_publish(django_capture_on_commit_callbacks):
    with (
        mock.patch("notifications.tasks.notification_send_batch_task.apply_async") as batch,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
        notifications_publish_together(),
    ):
        rows = [_enqueue(key=f"mail:{n}", recipient=f"c{n}@example.com") for n in range(3)]
    assert len(callbacks) == 1
    batch.assert_called_once_with(args=[[row.pk for row in rows]], retry=False)


def test_rows_enqueued_together_are_sent_and_a_rolled_back_one_is_skipped(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
        notifications_publish_together(),
    ):
        try:
            with transaction.atomic():
                _enqueue(key="mail:lost", recipient="lost@example.com")
                raise RuntimeError("this message failed")
        except RuntimeError:
            pass
        kept = _enqueue(key="mail:kept", recipient="kept@example.com")
    assert _status(kept) == Notification.Status.SENT
    assert [m.to for m in mail.outbox] == [["kept@example.com"]]


def test_a_batch_that_rolls_back_publishes_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
        notifications_publish_together(),
    ):
        _enqueue(key="mail:1")
        raise RuntimeError("the batch failed")
    assert callbacks == []
    assert Notification.objects.count() == 0


def test_second_send_of_a_sent_row_is_skipped(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _enqueue()
    assert notification_send(notification_id=notification.pk) == "skipped"
    assert len(mail.outbox) == 1


def test_only_one_of_two_claims_wins():
    notification = _enqueue()
    assert notification_claim(notification.pk) is not None
    assert notification_claim(notification.pk) is None


def test_broker_failure_at_commit_is_caught_and_row_stays_pending(
    django_capture_on_commit_callbacks,
):
    with (
        mock.patch(
            "notifications.tasks.notification_send_task.apply_async",
            side_effect=ConnectionError("redis down"),
        ),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notification = _enqueue()
    assert _status(notification) == Notification.Status.PENDING
    assert mail.outbox == []


def test_sweeper_sends_a_row_left_pending_once_it_is_due():
    notification = _enqueue()  # never committed in the test: on-commit never ran
    assert outbox_sweep()["due"] == 0  # still inside the grace for the first publish
    later = timezone.now() + timedelta(minutes=5)
    assert outbox_sweep(now=later)["published"] == 1
    assert _status(notification) == Notification.Status.SENT
    assert len(mail.outbox) == 1
    assert outbox_sweep(now=later + timedelta(minutes=5))["due"] == 0
    assert len(mail.outbox) == 1


def test_sweeper_resends_row_whose_worker_died_before_handing_it_off():
    notification = _enqueue()
    notification_claim(notification.pk)  # the worker took it and died
    result = outbox_sweep(now=timezone.now() + timedelta(minutes=10))
    assert result["requeued"] == 1
    assert _status(notification) == Notification.Status.SENT
    assert len(mail.outbox) == 1


def test_sweeper_parks_row_whose_worker_died_during_hand_off():
    notification = _enqueue()
    notification_claim(notification.pk)
    Notification.objects.filter(pk=notification.pk).update(handed_off_at=timezone.now())
    result = outbox_sweep(now=timezone.now() + timedelta(minutes=10))
    assert result["parked"] == 1
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert "may have been delivered" in notification.reason
    assert mail.outbox == []


def test_sweeper_leaves_a_row_being_sent_right_now_alone():
    notification = _enqueue()
    notification_claim(notification.pk)
    assert outbox_sweep(now=timezone.now() + timedelta(seconds=30))["requeued"] == 0
    assert _status(notification) == Notification.Status.SENDING


def test_delivery_failure_is_retried_with_backoff(settings):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    notification = _enqueue()
    before = timezone.now()
    assert notification_send(notification_id=notification.pk) == Notification.Status.PENDING
    notification.refresh_from_db()
    assert notification.attempts == 1
    assert "SMTP is down" in notification.last_error
    assert notification.next_attempt_at >= before + timedelta(seconds=30)
    assert notification.handed_off_at is None


def test_delivery_gives_up_after_max_attempts(settings):
    settings.EMAIL_BACKEND = "tests.notifications.failing_backend.EmailBackend"
    notification = _enqueue()
    Notification.objects.filter(pk=notification.pk).update(attempts=7)
    assert notification_send(notification_id=notification.pk) == Notification.Status.FAILED
    notification.refresh_from_db()
    assert "gave up" in notification.reason


def test_automatic_mails_beyond_hourly_cap_are_suppressed(settings):
    settings.AUTO_REPLY_HOURLY_CAP = 3
    rows = [_enqueue(key=f"k{n}") for n in range(5)]
    statuses = [row.status for row in rows]
    assert statuses == ["pending"] * 3 + ["suppressed"] * 2
    assert "more than 3 automatic messages" in rows[-1].reason


def test_cap_does_not_apply_to_answers_written_by_a_person(settings):
    settings.AUTO_REPLY_HOURLY_CAP = 1
    _enqueue(key="a")
    answer = _enqueue(key="b", kind=Notification.Kind.PERSONAL, template="answer")
    assert answer.status == Notification.Status.PENDING


def test_suppressed_row_is_never_sent(settings, django_capture_on_commit_callbacks):
    settings.AUTO_REPLY_HOURLY_CAP = 1
    with django_capture_on_commit_callbacks(execute=True):
        _enqueue(key="a")
        suppressed = _enqueue(key="b")
    assert len(mail.outbox) == 1
    assert notification_send(notification_id=suppressed.pk) == "skipped"
    assert outbox_sweep(now=timezone.now() + timedelta(hours=1))["due"] == 0


@pytest.mark.parametrize(
    "recipient", ["support@localhost", "Navigator@Support.example", "extra@ours.example"]
)
def test_never_mails_our_own_addresses(settings, recipient):
    settings.OWN_EMAIL_ADDRESSES = ["extra@ours.example"]
    row = _enqueue(recipient=recipient, own=["navigator@support.example"])
    assert row.status == Notification.Status.SUPPRESSED
    assert "our own address" in row.reason


def test_resend_requeues_a_failed_row_but_not_a_sent_one(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sent = _enqueue(key="sent")
    failed = _enqueue(key="failed")
    Notification.objects.filter(pk=failed.pk).update(status=Notification.Status.FAILED)
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_resend(notification=failed) is True
        assert notification_resend(notification=sent) is False
    assert _status(failed) == Notification.Status.SENT
    assert len(mail.outbox) == 2


def test_email_carries_number_message_id_and_loop_headers():
    row = _enqueue(headers={"In-Reply-To": "<a@b>", "References": "<a@b>"})
    email = notification_build_email(row)
    message = email.message()
    assert email.subject.startswith("[SP-0042] ")
    assert message["Message-ID"] == row.message_id
    assert message["In-Reply-To"] == "<a@b>"
    assert message["References"] == "<a@b>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["X-Auto-Response-Suppress"] == "All"
    assert email.alternatives and email.alternatives[0].mimetype == "text/html"


@pytest.mark.parametrize(
    ("kind", "auto_submitted"),
    [
        (Notification.Kind.NOTICE, "auto-generated"),
        (Notification.Kind.ALERT, "auto-generated"),
        (Notification.Kind.PERSONAL, None),
    ],
)
def test_auto_submitted_header_by_kind(kind, auto_submitted):
    row = _enqueue(kind=kind)
    message = notification_build_email(row).message()
    assert message["Auto-Submitted"] == auto_submitted
    assert message["X-Auto-Response-Suppress"] == "All"


def test_caller_headers_cannot_override_our_message_id():
    row = _enqueue(headers={"Message-ID": "<forged@example.com>"})
    assert notification_build_email(row).message()["Message-ID"] == row.message_id


def test_message_id_is_signed_and_names_the_reference(settings):
    settings.EMAIL_MESSAGE_ID_DOMAIN = "support.example"
    message_id = make_message_id("SP-0042")
    assert message_id.startswith("<sp-0042.")
    assert message_id.endswith("@support.example>")
    assert message_id_verify(message_id) == "SP-0042"
    assert message_id_verify(message_id.strip("<>")) == "SP-0042"


@pytest.mark.parametrize(
    "forged",
    [
        "<sp-0043.AAAAAAAAAAAAAAAA.0000000000000000@helpdesk.local>",
        "<CAF=abc@mail.gmail.com>",
        "",
    ],
)
def test_forged_or_foreign_message_id_is_rejected(forged):
    assert message_id_verify(forged) is None
    assert notification_by_message_id(forged) is None


def test_tampered_reference_fails_verification():
    genuine = make_message_id("SP-0042")
    assert message_id_verify(genuine.replace("sp-0042", "sp-0043")) is None


def test_message_id_changes_with_secret_key(settings):
    message_id = make_message_id("SP-0042")
    settings.SECRET_KEY = "another-secret-key-0123456789abcdefghijklmnop"
    assert message_id_verify(message_id) is None


def test_notification_found_by_its_message_id():
    row = _enqueue()
    assert notification_by_message_id(row.message_id) == row
    assert notification_by_message_id(row.message_id.strip("<>")) == row
    assert notification_by_message_id(make_message_id("SP-0042")) is None


def _item(key, recipient="op@support.example", kind=Notification.Kind.ALERT):
    return {
        "recipient": recipient,
        "template": "sla_reminder",
        "kind": kind,
        "idempotency_key": key,
        "context": {"number": "SP-0042"},
        "reference": "SP-0042",
    }


def test_enqueue_many_writes_each_key_once_and_sends_after_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        assert notification_enqueue_many(items=[_item("a"), _item("b")]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        notification_enqueue_many(items=[_item("a"), _item("b")])
    assert Notification.objects.count() == 2
    assert len(mail.outbox) == 2
    assert {m.message()["Auto-Submitted"] for m in mail.outbox} == {"auto-generated"}


def test_enqueue_many_applies_cap_and_own_addresses(settings):
    settings.AUTO_REPLY_HOURLY_CAP = 2
    items = [_item(f"n{n}", "maria@example.com", Notification.Kind.NOTICE) for n in range(3)]
    items.append({**_item("own"), "own": ["op@support.example"]})
    notification_enqueue_many(items=items)
    statuses = dict(Notification.objects.values_list("idempotency_key", "status"))
    assert statuses == {"n0": "pending", "n1": "pending", "n2": "suppressed", "own": "suppressed"}


def test_enqueue_many_never_mails_the_address_it_is_sent_from():
    item = {**_item("loop", "navigator@support.example"), "from_email": "navigator@support.example"}
    notification_enqueue_many(items=[item])
    row = Notification.objects.get()
    assert row.status == Notification.Status.SUPPRESSED
    assert "our own address" in row.reason


def test_enqueue_many_inside_publish_together_adds_to_its_one_publish(
    django_capture_on_commit_callbacks,
):
    from notifications.services import notifications_publish_together

    with django_capture_on_commit_callbacks() as callbacks, notifications_publish_together():
        notification_enqueue_many(items=[_item("a"), _item("b")])
        notification_enqueue_many(items=[_item("c")])
    assert len(callbacks) == 1


def test_delivery_through_an_anymail_esp_keeps_our_headers(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    row = _enqueue()
    assert notification_send(notification_id=row.pk) == Notification.Status.SENT
    (sent,) = mail.outbox
    params = sent.anymail_test_params
    assert params["extra_headers"]["Message-ID"] == row.message_id
    assert params["extra_headers"]["Auto-Submitted"] == "auto-replied"
    assert params["subject"].startswith("[SP-0042] ")
