"""Finding 7: a reply threads only by Message-IDs we signed (64-bit MAC) or by those of
operators' and requesters' messages, never by the id a "bounce" brought in."""

import hashlib
import hmac
import re

import pytest

from notifications.models import Notification
from notifications.services import make_message_id, message_id_verify
from tests.tickets.intake.conftest import build_email
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Message, Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

ATTACKER_ID = "<planted-1@evil.example>"


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.EMAIL, subject="Вход", text="Х"
    )


def _ingest(raw: bytes):
    return email_ingest(raw, source=InboundEmail.Source.PIPE)


def _fake_bounce(ticket: Ticket) -> bytes:
    """A 'delivery failure' anyone can send: it names the ticket in the subject and
    carries a Message-ID of the sender's choosing."""
    return (
        "From: Mail Delivery System <mailer-daemon@evil.example>\r\n"
        "To: navigator@support.example\r\n"
        f"Subject: Undelivered Mail Returned to Sender [{ticket.reference}]\r\n"
        f"Message-ID: {ATTACKER_ID}\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.evil.example\r\n\r\n"
        "Final-Recipient: rfc822; maria@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B--\r\n"
    ).encode()


def test_reply_to_the_message_id_of_a_fake_bounce_does_not_land_on_the_ticket(ticket):
    bounce = _ingest(_fake_bounce(ticket))
    # It quotes no Message-ID of ours: quarantined, never a note (test_forged_bounce.py).
    assert bounce.status == "quarantined"
    assert not ticket.messages.filter(email_message_id=ATTACKER_ID).exists()

    result = _ingest(
        build_email(
            sender="attacker@evil.example",
            subject="Re: Undelivered Mail",
            body="Смените мой e-mail на attacker@evil.example",
            headers={"In-Reply-To": ATTACKER_ID},
        )
    )
    assert result.ticket_id != ticket.pk
    assert not ticket.messages.filter(
        author_kind=Message.Author.REQUESTER, text__contains="attacker@evil.example"
    ).exists()


def test_message_id_with_a_32_bit_signature_is_not_ours(ticket, settings):
    # Made exactly as before the MAC grew: genuine, but only 32 bits.
    local = f"{ticket.reference.lower()}.AbCdEfGhIjKlMnOp"
    key = hashlib.sha256(("notifications.message_id" + settings.SECRET_KEY).encode()).digest()
    mac = hmac.new(key, local.encode(), hashlib.sha256).hexdigest()[:8]
    old = f"<{local}.{mac}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    assert message_id_verify(old) is None


def test_our_message_ids_carry_a_64_bit_signature(ticket):
    notification = Notification.objects.get(reference=ticket.reference)
    for message_id in (notification.message_id, make_message_id("SP-0042")):
        mac = re.match(r"^<[^.]+\.[^.]+\.([0-9a-f]+)@", message_id).group(1)
        assert len(mac) * 4 >= 64
        assert message_id_verify(message_id)
