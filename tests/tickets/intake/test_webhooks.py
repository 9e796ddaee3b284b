"""The ESP door: a signed Mailgun inbound post creates a ticket; a bad signature doesn't."""

import base64
import hashlib
import hmac
import time

import pytest

from tickets.models import InboundEmail, Ticket

pytestmark = pytest.mark.django_db

SIGNING_KEY = "mailgun-signing-key"
BASIC_AUTH = "anymail:webhook-secret"
URL = "/anymail/mailgun/inbound/"


@pytest.fixture(autouse=True)
def _anymail(settings):
    settings.ANYMAIL_ESP = "mailgun"
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY, "WEBHOOK_SECRET": BASIC_AUTH}


def _post(client, raw: bytes, *, key: str = SIGNING_KEY, auth: str = BASIC_AUTH):
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return client.post(
        URL,
        {
            "body-mime": raw.decode("utf-8"),
            "recipient": "booking@support.example",
            "sender": "maria@example.com",
            "timestamp": timestamp,
            "token": token,
            "signature": signature,
        },
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(auth.encode()).decode(),
    )


def test_signed_mailgun_inbound_post_creates_a_ticket(client, make_email, queue, other_queue):
    response = _post(client, make_email(to="someone@else.example"))
    assert response.status_code == 200
    ticket = Ticket.objects.get()
    # The envelope recipient chose the queue.
    assert ticket.queue == other_queue
    assert InboundEmail.objects.get().source == InboundEmail.Source.WEBHOOK


def test_mailgun_inbound_post_with_a_bad_signature_is_refused(client, make_email, queue):
    response = _post(client, make_email(), key="wrong-key")
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    assert not InboundEmail.objects.exists()


def test_mailgun_inbound_post_without_the_webhook_secret_is_refused(client, make_email, queue):
    response = _post(client, make_email(), auth="anymail:wrong")
    assert response.status_code == 401
    assert not InboundEmail.objects.exists()
