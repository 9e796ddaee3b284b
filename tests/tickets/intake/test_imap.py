"""The IMAP door against a real Dovecot (Debian's dovecot-imapd), started per test."""

import io
import shutil
import tempfile
import threading
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from helpdesk.testing.dovecot import (
    PASSWORD,
    USER,
    append,
    count,
    dovecot_crash,
    dovecot_start,
    dovecot_stop,
    free_port,
)
from notifications.models import Notification
from tests.factories import UserFactory
from tickets.intake import imap as imap_module
from tickets.intake.imap import mailbox_poll, mailboxes_poll
from tickets.intake.ingest import email_ingest_batch
from tickets.models import InboundEmail, Mailbox, NumberSequence, Ticket
from tickets.numbering import COUNTER_NAME
from tickets.tasks import poll_mailboxes_task

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]


@pytest.fixture
def dovecot():
    # Not under pytest's tmp dir: its 0700 parent would keep Dovecot's users out.
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    port = free_port()
    server = {"host": "127.0.0.1", "port": port, "root": root}
    server["process"] = dovecot_start(root, port)
    yield server
    dovecot_stop(server["process"])
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def mailbox(dovecot, queue, settings):
    # The throwaway Dovecot has no certificate.
    settings.IMAP_ALLOW_INSECURE = True
    # transaction=True tests flush the tables, the migration's counter row included.
    NumberSequence.objects.get_or_create(name=COUNTER_NAME)
    return Mailbox.objects.create(
        queue=queue,
        host=dovecot["host"],
        port=dovecot["port"],
        security=Mailbox.Security.NONE,
        username=USER,
        password=PASSWORD,
    )


def message(subject: str, sender: str = "maria@example.com") -> bytes:
    return (
        f"From: {sender}\r\nTo: someone@elsewhere.example\r\nSubject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='example.com')}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nТекст\r\n"
    ).encode()


@pytest.mark.django_db(transaction=True)
def test_polling_creates_tickets_in_the_mailbox_queue_and_deletes_the_mail(dovecot, mailbox, queue):
    for i in range(3):
        append(dovecot, message(f"Вопрос {i}"))
    stats = mailbox_poll(mailbox=mailbox)
    assert stats["processed"] == 3
    assert Ticket.objects.filter(queue=queue).count() == 3
    assert count(dovecot) == 0
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert mailbox.last_polled_at is not None


@pytest.mark.django_db(transaction=True)
def test_polling_moves_mail_to_the_archive_folder(dovecot, mailbox):
    mailbox.archive_folder = "Processed"
    mailbox.save()
    append(dovecot, message("В архив"))
    mailboxes_poll()
    assert count(dovecot) == 0
    assert count(dovecot, "Processed") == 1
    assert InboundEmail.objects.get().source == InboundEmail.Source.IMAP


@pytest.mark.django_db(transaction=True)
def test_quarantined_mail_is_stored_and_removed_from_the_server(dovecot, mailbox):
    append(dovecot, b"Subject: no sender\r\n\r\nhello\r\n")
    stats = mailbox_poll(mailbox=mailbox)
    assert stats["quarantined"] == 1
    assert InboundEmail.objects.get().status == InboundEmail.Status.QUARANTINED
    assert count(dovecot) == 0


@pytest.mark.django_db(transaction=True)
def test_mail_that_could_not_be_stored_stays_on_the_server(dovecot, mailbox, monkeypatch):
    def broken_store(**kwargs):
        raise OSError("database down")

    monkeypatch.setattr("tickets.intake.ingest.inbounds_store", broken_store)
    append(dovecot, message("Не потерять"))
    stats = mailbox_poll(mailbox=mailbox)
    assert stats["failed"] == 1
    assert count(dovecot) == 1
    mailbox.refresh_from_db()
    assert "database down" in mailbox.last_error


@pytest.mark.django_db
def test_inside_a_transaction_mail_is_removed_only_after_commit(
    dovecot, mailbox, django_capture_on_commit_callbacks
):
    append(dovecot, message("После коммита"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        mailbox_poll(mailbox=mailbox)
        assert count(dovecot) == 1  # ingested, not committed yet: still on the server
    assert len(callbacks) >= 1
    assert count(dovecot) == 0


@pytest.mark.django_db(transaction=True)
def test_wrong_password_is_recorded_on_the_mailbox(dovecot, mailbox):
    mailbox.password = "wrong"
    mailbox.save()
    stats = mailbox_poll(mailbox=mailbox)
    mailbox.refresh_from_db()
    assert stats["error"]
    assert "AUTHENTICATIONFAILED" in mailbox.last_error or "fail" in mailbox.last_error.lower()


@pytest.mark.django_db(transaction=True)
def test_password_can_come_from_the_environment(dovecot, mailbox, monkeypatch):
    mailbox.password = ""
    mailbox.password_env = "IMAP_PASSWORD_HELPDESK_TEST"
    mailbox.save()
    monkeypatch.setenv("IMAP_PASSWORD_HELPDESK_TEST", PASSWORD)
    append(dovecot, message("env"))
    assert mailbox_poll(mailbox=mailbox)["processed"] == 1


def test_imap_module_has_the_beat_entry_point():
    assert callable(imap_module.mailboxes_poll)


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_a_mailbox_each_taking_its_own_messages(dovecot, mailbox):
    for i in range(6):
        append(dovecot, message(f"Вопрос {i}"))
    first = mailbox_poll(mailbox=mailbox, shard=0, shards=2)
    assert first["processed"] == 3  # UIDs 2, 4, 6
    assert count(dovecot) == 3
    second = mailbox_poll(mailbox=mailbox, shard=1, shards=2)
    assert second["processed"] == 3
    assert count(dovecot) == 0
    assert Ticket.objects.count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_poll_of_a_mailbox_still_being_polled_is_skipped(dovecot, mailbox):
    append(dovecot, message("Долгий опрос"))
    inside, go = threading.Event(), threading.Event()
    first: dict = {}

    def slow_ingest(raws, **kwargs):
        inside.set()
        assert go.wait(timeout=30)
        return email_ingest_batch(raws, **kwargs)

    def run_first():
        try:
            first.update(mailbox_poll(mailbox=mailbox, ingest=slow_ingest))
        finally:
            connection.close()

    thread = threading.Thread(target=run_first)
    thread.start()
    assert inside.wait(timeout=30)
    second = mailbox_poll(mailbox=Mailbox.objects.get(pk=mailbox.pk))
    go.set()
    thread.join(timeout=60)
    assert second["skipped"] == 1
    assert second["fetched"] == 0
    assert first["processed"] == 1
    assert Ticket.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_fans_out_one_task_per_worker(dovecot, mailbox, settings):
    settings.IMAP_WORKERS = 2
    for i in range(4):
        append(dovecot, message(f"Вопрос {i}"))
    poll_mailboxes_task()  # eager in tests: the shard tasks run here
    assert count(dovecot) == 0
    assert Ticket.objects.count() == 4


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_poll_mailboxes_with_two_worker_processes_ingests_everything_once(dovecot, mailbox):
    for i in range(6):
        append(dovecot, message(f"Вопрос {i}"))
    out = io.StringIO()
    call_command("poll_mailboxes", "--workers", "2", stdout=out)
    assert "'processed': 6" in out.getvalue()
    assert count(dovecot) == 0
    assert Ticket.objects.count() == 6
    assert InboundEmail.objects.filter(status=InboundEmail.Status.PROCESSED).count() == 6


def _mail_health_line(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    html = client.get("/admin/").content.decode()
    return html[html.index('id="ws-mail-health"') :][:600] if "ws-mail-health" in html else ""


@pytest.mark.django_db(transaction=True)
def test_imap_server_down_for_a_poll_then_back_loses_and_duplicates_nothing(
    dovecot, mailbox, translations
):
    """The server goes away in the middle of a poll (after the mail was stored, before it
    was removed from the server), stays down for the next poll, then comes back."""
    supervisor = UserFactory(username="mail-watcher", is_superuser=True)
    first = [message(f"Вопрос {i}", sender=f"citizen{i}@example.com") for i in range(3)]
    for raw in first:
        append(dovecot, raw)
    server = {"process": dovecot["process"]}

    def ingest_then_the_server_dies(raws, **kwargs):
        results = email_ingest_batch(raws, **kwargs)
        dovecot_crash(server["process"])
        return results

    mid_poll = mailbox_poll(mailbox=mailbox, ingest=ingest_then_the_server_dies)
    while_down = mailbox_poll(mailbox=mailbox)
    line_while_down = _mail_health_line(supervisor)

    server["process"] = dovecot["process"] = dovecot_start(dovecot["root"], dovecot["port"])
    second = [message(f"Новый вопрос {i}", sender=f"later{i}@example.com") for i in range(2)]
    for raw in second:
        append(dovecot, raw)
    back = mailbox_poll(mailbox=mailbox)
    senders = [f"citizen{i}@example.com" for i in range(3)]
    senders += [f"later{i}@example.com" for i in range(2)]
    line_after = _mail_health_line(supervisor)

    assert mid_poll["processed"] == 3 and mid_poll["error"]
    assert while_down["fetched"] == 0 and "ConnectionRefused" in while_down["error"]
    assert "Почта очереди «Сайт Навигатора» не поступает" in line_while_down
    assert "ConnectionRefused" in line_while_down
    # The three stored before the outage come again and are recognised; nothing is lost.
    assert back == {**back, "fetched": 5, "processed": 2, "duplicate": 3, "error": ""}
    assert count(dovecot) == 0
    assert Ticket.objects.count() == 5
    assert InboundEmail.objects.filter(status=InboundEmail.Status.PROCESSED).count() == 5
    assert sorted(
        Notification.objects.filter(kind=Notification.Kind.AUTO_REPLY).values_list(
            "recipient", flat=True
        )
    ) == sorted(senders)
    assert line_after == ""
