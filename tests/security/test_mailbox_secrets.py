"""Low finding: a mailbox reads its password only from IMAP_PASSWORD_* variables, and
talks to its server only over TLS unless IMAP_ALLOW_INSECURE says otherwise."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tickets.intake import imap
from tickets.intake.imap import MailboxError, mailbox_connect, mailbox_password
from tickets.models import Mailbox

pytestmark = pytest.mark.django_db


def _mailbox(queue, **fields) -> Mailbox:
    values = {"queue": queue, "host": "imap.example", "username": "support", "password": ""}
    return Mailbox(**{**values, **fields})


@pytest.fixture
def imap_calls(monkeypatch):
    """Record connections instead of making them."""
    calls = []

    class FakeIMAP:
        capabilities = ()

        def __init__(self, *args, **kwargs):
            calls.append(args)

        def starttls(self, **kwargs):
            pass

        def login(self, user, password):
            calls.append(("login", user, password))

        def capability(self):
            return "OK", [b"IMAP4rev1"]

    monkeypatch.setattr(imap.imaplib, "IMAP4", FakeIMAP)
    monkeypatch.setattr(imap.imaplib, "IMAP4_SSL", FakeIMAP)
    return calls


@pytest.mark.parametrize(
    "name", ["SECRET_KEY", "DATABASE_URL", "imap_password_x", "IMAP_PASSWORD_"]
)
def test_mailbox_may_not_name_any_other_environment_variable(queue, name):
    with pytest.raises(ValidationError) as error:
        _mailbox(queue, password_env=name).full_clean()
    assert "password_env" in error.value.message_dict


def test_mailbox_may_name_an_imap_password_variable(queue):
    _mailbox(queue, password_env="IMAP_PASSWORD_NAVIGATOR").full_clean()


def test_poll_refuses_to_send_secret_key_as_the_imap_password(queue, monkeypatch, imap_calls):
    monkeypatch.setenv("SECRET_KEY", "the-real-secret-key")
    mailbox = Mailbox.objects.create(
        queue=queue, host="imap.example", username="u", password="", password_env="SECRET_KEY"
    )
    with pytest.raises(MailboxError):
        mailbox_password(mailbox)
    with pytest.raises(MailboxError):
        mailbox_connect(mailbox)
    assert not any(call[0] == "login" for call in imap_calls)


def test_password_is_read_from_an_imap_password_variable(queue, monkeypatch):
    monkeypatch.setenv("IMAP_PASSWORD_NAVIGATOR", "imap-pass")
    mailbox = _mailbox(queue, password_env="IMAP_PASSWORD_NAVIGATOR")
    assert mailbox_password(mailbox) == "imap-pass"


def test_mailbox_without_tls_fails_validation(queue, settings):
    settings.IMAP_ALLOW_INSECURE = False
    with pytest.raises(ValidationError) as error:
        _mailbox(queue, password="p", security=Mailbox.Security.NONE).full_clean()
    assert "security" in error.value.message_dict


def test_mailbox_without_tls_is_refused_before_connecting(queue, settings, imap_calls):
    settings.IMAP_ALLOW_INSECURE = False
    mailbox = Mailbox.objects.create(
        queue=queue, host="imap.example", username="u", password="p", security="none"
    )
    with pytest.raises(MailboxError):
        mailbox_connect(mailbox)
    assert imap_calls == []


def test_imap_allow_insecure_lets_a_local_test_server_go_without_tls(queue, settings, imap_calls):
    settings.IMAP_ALLOW_INSECURE = True
    mailbox = _mailbox(queue, password="p", security=Mailbox.Security.NONE)
    mailbox.full_clean()
    mailbox.save()
    mailbox_connect(mailbox)
    assert ("login", "support", "p") in imap_calls


def test_admin_refuses_a_mailbox_reading_secret_key(admin_client, queue):
    response = admin_client.post(
        reverse("admin:tickets_mailbox_add"),
        {
            "queue": queue.pk,
            "host": "imap.example",
            "port": 993,
            "security": "ssl",
            "username": "u",
            "password": "",
            "password_env": "SECRET_KEY",
            "folder": "INBOX",
            "archive_folder": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert not Mailbox.objects.exists()
