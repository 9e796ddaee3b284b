"""The IMAP door against a real Dovecot (Debian's dovecot-imapd), started per test."""

import imaplib
import io
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tickets.intake import imap as imap_module
from tickets.intake.imap import mailbox_poll, mailboxes_poll
from tickets.intake.ingest import email_ingest_batch
from tickets.models import InboundEmail, Mailbox, NumberSequence, Ticket
from tickets.numbering import COUNTER_NAME
from tickets.tasks import poll_mailboxes_task

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "support", "imap-pass-123"
PORTS = range(8400, 8500)


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


def dovecot_config(root, port: int) -> str:
    """A throwaway Dovecot 2.3 config: one passwd-file user, maildir, no SSL."""
    for sub in ("run", "mail", "state"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    # Mail is stored as an unprivileged user (Dovecot refuses uid 0).
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        import pwd

        entry = pwd.getpwnam("dovecot")
        uid, gid = entry.pw_uid, entry.pw_gid
        os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  user = root
}}
service auth-worker {{
  user = root
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""
    path = root / "dovecot.conf"
    path.write_text(config)
    return str(path)


@pytest.fixture
def dovecot():
    # Not under pytest's tmp dir: its 0700 parent would keep Dovecot's users out.
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    port = _free_port()
    conf = dovecot_config(root, port)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                out = process.stdout.read().decode(errors="replace")
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {out}\n{log}")
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("dovecot did not open its port")
    server = {"host": "127.0.0.1", "port": port, "root": root}
    while True:  # the auth service comes up a moment after the listener
        try:
            imap_client(server).logout()
            break
        except imaplib.IMAP4.error:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail((root / "dovecot.log").read_text())
            time.sleep(0.1)
    yield {"host": "127.0.0.1", "port": port, "root": root}
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(root, ignore_errors=True)


def imap_client(server) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server["host"], server["port"])
    client.login(USER, PASSWORD)
    return client


def append(server, raw: bytes, folder: str = "INBOX") -> None:
    client = imap_client(server)
    client.append(folder, None, None, raw)
    client.logout()


def count(server, folder: str = "INBOX") -> int:
    client = imap_client(server)
    status, data = client.select(folder)
    client.logout()
    return int(data[0]) if status == "OK" else -1


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
