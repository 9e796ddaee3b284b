"""The MTA pipe door: `manage.py ingest_email [FILE|-]`."""

import io
import sys

import pytest
from django.core.management import CommandError, call_command

from tickets.models import InboundEmail, Ticket

pytestmark = pytest.mark.django_db


def run(*args, stdin: bytes | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    call_command("ingest_email", *args, stdout=out)
    return out.getvalue().strip()


def test_ingest_email_prints_the_new_ticket_number(tmp_path, make_email, queue):
    path = tmp_path / "m.eml"
    path.write_bytes(make_email())
    assert run(str(path)) == Ticket.objects.get().reference


def test_ingest_email_reads_standard_input(make_email, queue, monkeypatch):
    output = run("-", stdin=make_email(), monkeypatch=monkeypatch)
    assert output == Ticket.objects.get().reference


def test_ingest_email_prints_duplicate_for_a_second_delivery(tmp_path, make_email, queue):
    path = tmp_path / "m.eml"
    path.write_bytes(make_email(message_id="<same@example.com>"))
    run(str(path))
    assert run(str(path)) == "duplicate"


def test_ingest_email_prints_quarantined_and_the_id(tmp_path, queue):
    path = tmp_path / "m.eml"
    path.write_bytes(b"Subject: no sender at all\r\n\r\nhello\r\n")
    inbound_output = run(str(path))
    inbound = InboundEmail.objects.get()
    assert inbound_output == f"quarantined {inbound.pk}"
    assert inbound.status == InboundEmail.Status.QUARANTINED


def test_ingest_email_exits_non_zero_when_the_message_cannot_be_stored(
    tmp_path, make_email, queue, monkeypatch
):
    def broken_store(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("tickets.intake.ingest.inbounds_store", broken_store)
    path = tmp_path / "m.eml"
    path.write_bytes(make_email())
    with pytest.raises(CommandError) as excinfo:
        run(str(path))
    assert excinfo.value.returncode == 75


def test_ingest_email_exit_code_is_zero_in_a_real_process(tmp_path, make_email, settings):
    """The pipe as the MTA runs it: a separate process, exit status and output."""
    import subprocess

    path = tmp_path / "m.eml"
    path.write_bytes(b"Subject: x\r\n\r\nno sender\r\n")
    db = tmp_path / "pipe.sqlite3"
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": f"sqlite:///{db}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "SECRET_KEY": "test",
    }
    manage = str(settings.BASE_DIR / "manage.py")
    subprocess.run([sys.executable, manage, "migrate", "-v0"], env=env, check=True)
    done = subprocess.run(
        [sys.executable, manage, "ingest_email", str(path)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("quarantined ")


def test_poll_mailboxes_without_mailboxes_says_so(db):
    out = io.StringIO()
    call_command("poll_mailboxes", stdout=out)
    assert out.getvalue().strip() == "no active mailboxes"
