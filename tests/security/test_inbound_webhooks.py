"""Finding 3: the anymail inbound webhooks take no anonymous mail.

Only the configured ESP's inbound webhook is mounted, only with a webhook secret; a
malformed post is a 400, an oversized one a 413, and neither stores anything.
"""

import base64

import pytest
from django.core import checks
from django.test import Client

from tests.tickets.intake.conftest import build_email
from tickets.models import InboundEmail, Message, Ticket
from tickets.services import ticket_create

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning"),
    pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailInsecureWebhookWarning"),
]

SECRET = "esp:a-long-random-webhook-password"
SENDGRID = "/anymail/sendgrid/inbound/"


def _webhook_checks() -> list[checks.CheckMessage]:
    found = checks.run_checks(tags=[checks.Tags.security])
    return [m for m in found if m.id in {"tickets.E101", "tickets.W101"}]


def _auth(credentials: str) -> dict:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Вход", text="Не вхожу"
    )


@pytest.fixture
def sendgrid(settings):
    settings.ANYMAIL_ESP = "sendgrid"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}


def _forged_reply(ticket: Ticket) -> bytes:
    return build_email(
        sender="Петрова Мария <maria@example.com>",
        subject=f"Re: [{ticket.reference}] Вход",
        body="Пришлите мой пароль на attacker@evil.example",
    )


def test_anonymous_post_without_a_webhook_secret_finds_no_webhook(client, settings, ticket):
    settings.ANYMAIL_ESP = "sendgrid"
    settings.ANYMAIL = {}
    response = client.post(SENDGRID, {"email": _forged_reply(ticket).decode()})
    assert response.status_code == 404
    assert not InboundEmail.objects.exists()
    assert not ticket.messages.filter(text__contains="attacker@evil.example").exists()


def test_post_with_wrong_basic_auth_is_refused_with_401(client, sendgrid, ticket):
    response = client.post(
        SENDGRID, {"email": _forged_reply(ticket).decode()}, **_auth("esp:guessed")
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not InboundEmail.objects.exists()


def test_post_with_the_webhook_secret_is_ingested(sendgrid, ticket):
    client = Client(enforce_csrf_checks=True)  # an ESP has no CSRF token
    response = client.post(SENDGRID, {"email": _forged_reply(ticket).decode()}, **_auth(SECRET))
    assert response.status_code == 200
    assert InboundEmail.objects.get().source == InboundEmail.Source.WEBHOOK


@pytest.mark.parametrize(
    "url",
    ["/anymail/mailgun/inbound/", "/anymail/postmark/inbound/", "/anymail/sendgrid/tracking/"],
)
def test_only_the_configured_esps_inbound_webhook_is_mounted(client, sendgrid, queue, url):
    response = client.post(url, {"email": build_email().decode()}, **_auth(SECRET))
    assert response.status_code == 404
    assert not InboundEmail.objects.exists()


def test_sendgrid_post_without_email_or_headers_is_a_400(client, sendgrid, queue):
    response = client.post(SENDGRID, {"from": "maria@example.com"}, **_auth(SECRET))
    assert response.status_code == 400
    assert not InboundEmail.objects.exists()


def test_oversized_message_is_refused_with_413_and_not_stored(client, sendgrid, queue, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 2000
    # Under twice the limit as a post, over the limit as a message.
    raw = build_email(body="x" * 2500)
    assert 2000 < len(raw) < 3000
    response = client.post(SENDGRID, {"email": raw.decode()}, **_auth(SECRET))
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()
    assert not Message.objects.exists()


def test_oversized_post_is_refused_with_413_before_it_is_read(client, sendgrid, queue, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 1000
    response = client.post(
        SENDGRID, {"email": build_email(body="x" * 5000).decode()}, **_auth(SECRET)
    )
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()


def test_form_field_over_the_upload_limit_is_a_413(client, sendgrid, queue, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        SENDGRID, {"email": build_email(body="x" * 2000).decode()}, **_auth(SECRET)
    )
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()


def test_esp_without_webhook_secret_is_a_system_check_error_in_production(settings):
    settings.DEBUG = False
    settings.ANYMAIL_ESP = "mailgun"
    settings.ANYMAIL = {"MAILGUN_API_KEY": "key"}
    (message,) = _webhook_checks()
    assert message.level == checks.ERROR
    assert message.id == "tickets.E101"
    assert "not mounted" in message.msg


def test_esp_without_webhook_secret_is_a_system_check_warning_in_debug(settings):
    settings.DEBUG = True
    settings.ANYMAIL_ESP = "mailgun"
    settings.ANYMAIL = {}
    (message,) = _webhook_checks()
    assert message.level == checks.WARNING


def test_no_esp_at_all_is_nothing_to_warn_about(settings):
    settings.DEBUG = False
    settings.ANYMAIL_ESP = ""
    settings.ANYMAIL = {}
    assert _webhook_checks() == []
