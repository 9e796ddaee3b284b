"""A delivery report is acted on only when it quotes the Message-ID of a mail we sent,
and then only for that mail's recipient and ticket (docs/security.md, "Forged bounces").

Anyone can send a message that looks like a bounce ("Mail Delivery Subsystem",
multipart/report, a Final-Recipient of his choosing): it must neither put a note on a
ticket nor stop our mail to a citizen's address.
"""

import os
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from notifications.models import Notification
from notifications.services import make_message_id, notification_enqueue
from tests.factories import ContactFactory
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Message, Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

CORPUS = Path(
    os.environ.get("MAIL_CORPUS_DIR", settings.BASE_DIR.parent / "shared" / "corpus" / "mail")
)
needs_corpus = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"mail corpus not found at {CORPUS} (set MAIL_CORPUS_DIR)"
)


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.EMAIL, subject="Вход", text="Х"
    )


@pytest.fixture
def attacker_ticket(queue):
    attacker = ContactFactory(full_name="Злоумышленник", email="attacker@evil.example")
    return ticket_create(
        queue=queue, requester=attacker, channel=Ticket.Channel.EMAIL, subject="Тест", text="Х"
    )


def _sent_mail(ticket: Ticket) -> Notification:
    """The auto-reply of `ticket`, as the worker leaves it after sending."""
    notification = Notification.objects.get(
        reference=ticket.reference, kind=Notification.Kind.AUTO_REPLY
    )
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, handed_off_at=now, sent_at=now
    )
    notification.refresh_from_db()
    return notification


def _ingest(raw: bytes):
    return email_ingest(raw, source=InboundEmail.Source.PIPE)


def _dsn(
    *,
    final_recipient: str = "maria@example.com",
    quoted_message_id: str | None = None,
    subject: str = "Undelivered Mail Returned to Sender",
    action: str = "failed",
    status: str = "5.1.1",
) -> bytes:
    returned = (
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {quoted_message_id}\r\nSubject: Ваше обращение\r\n"
        if quoted_message_id
        else ""
    )
    return (
        "From: Mail Delivery Subsystem <mailer-daemon@mx.example.com>\r\n"
        "To: navigator@support.example\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.com')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {final_recipient}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"{returned}"
        "--B--\r\n"
    ).encode()


def _notice_to(recipient: str, key: str) -> Notification:
    return notification_enqueue(
        recipient=recipient,
        template="tickets/email/notice",
        kind=Notification.Kind.NOTICE,
        idempotency_key=key,
    )


def _bounced() -> list[str]:
    return list(
        Notification.objects.filter(bounced_at__isnull=False).values_list("recipient", flat=True)
    )


def test_forged_dsn_naming_a_citizen_suppresses_nothing_and_adds_no_note(ticket):
    _sent_mail(ticket)
    result = _ingest(_dsn(subject=f"Undelivered Mail Returned to Sender [{ticket.reference}]"))

    assert result.status == "quarantined"
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert "Message-ID" in inbound.error  # the reason, in either language
    assert not ticket.messages.filter(author_kind=Message.Author.SYSTEM).exists()
    assert _bounced() == []
    assert _notice_to("maria@example.com", "after-forged").status == Notification.Status.PENDING


def test_forged_dsn_with_a_made_up_message_id_in_our_format_is_not_ours(ticket):
    _sent_mail(ticket)
    forged = make_message_id(ticket.reference).replace(".", "x", 1)  # MAC no longer matches
    result = _ingest(_dsn(quoted_message_id=forged))
    assert result.status == "quarantined"
    assert _bounced() == []


def test_dsn_quoting_a_message_id_we_never_sent_is_not_acted_on(ticket):
    notification = Notification.objects.get(reference=ticket.reference)  # still pending
    result = _ingest(_dsn(quoted_message_id=notification.message_id))
    assert result.status == "quarantined"
    assert _bounced() == []


def test_dsn_quoting_our_message_id_suppresses_only_that_recipient(ticket, queue):
    sent = _sent_mail(ticket)
    other = ticket_create(
        queue=queue,
        requester=ContactFactory(full_name="Иванов", email="ivanov@example.com"),
        channel=Ticket.Channel.EMAIL,
        subject="Другое",
        text="Х",
    )
    _sent_mail(other)
    result = _ingest(_dsn(quoted_message_id=sent.message_id))

    assert result.status == "processed"
    assert result.ticket_id == ticket.pk
    note = ticket.messages.get(author_kind=Message.Author.SYSTEM)
    assert note.is_internal
    assert "maria@example.com" in note.text
    sent.refresh_from_db()
    assert sent.bounced_at is not None
    assert "5.1.1" in sent.reason
    assert _bounced() == ["maria@example.com"]
    # Automatic mail to the bounced address is held back; others' mail is not.
    held = _notice_to("maria@example.com", "after-bounce")
    assert held.status == Notification.Status.SUPPRESSED
    assert "bounced" in held.reason
    assert _notice_to("ivanov@example.com", "other").status == Notification.Status.PENDING
    assert not other.messages.filter(author_kind=Message.Author.SYSTEM).exists()


def test_dsn_quoting_another_tickets_mail_does_not_touch_this_one(ticket, attacker_ticket):
    """The attacker quotes the Message-ID of the mail he got himself, names the citizen
    as the failed recipient and her ticket in the subject."""
    _sent_mail(ticket)
    his = _sent_mail(attacker_ticket)
    result = _ingest(
        _dsn(
            final_recipient="maria@example.com",
            quoted_message_id=his.message_id,
            subject=f"Undelivered Mail Returned to Sender [{ticket.reference}]",
        )
    )

    assert result.ticket_id == attacker_ticket.pk
    assert not ticket.messages.filter(author_kind=Message.Author.SYSTEM).exists()
    assert _bounced() == ["attacker@evil.example"]
    assert _notice_to("maria@example.com", "citizen").status == Notification.Status.PENDING


def test_delay_report_is_a_note_and_suppresses_nothing(ticket):
    sent = _sent_mail(ticket)
    result = _ingest(_dsn(quoted_message_id=sent.message_id, action="delayed", status="4.4.1"))
    assert result.ticket_id == ticket.pk
    assert ticket.messages.filter(author_kind=Message.Author.SYSTEM).exists()
    assert _bounced() == []


def test_operators_answers_still_go_to_a_bounced_address(ticket):
    sent = _sent_mail(ticket)
    _ingest(_dsn(quoted_message_id=sent.message_id))
    answer = notification_enqueue(
        recipient="maria@example.com",
        template="tickets/email/answer",
        kind=Notification.Kind.PERSONAL,
        idempotency_key="answer",
    )
    assert answer.status == Notification.Status.PENDING


# Real delivery reports from the shared corpus, their returned message's id replaced by
# ours in memory (the files stay where they are).
REAL_DSNS = [
    # Postfix: message/rfc822 returned message, Action failed 5.1.1.
    ("zammad/mail055.box", b"<20170526150141.232.13312@example.zammad.loc>", True),
    # Gmail: In-Reply-To/References on the report, X-Original-Message-ID, delayed 4.4.1.
    ("zammad/mail078.box", b"<20150830145601.30.608881@example.com>", False),
    # Lotus Domino / Exchange style report with a message/rfc822 part.
    ("cpython/msg_16.txt", b"<002001c144a6$8752e060$56104586@oxy.edu>", None),
]


@needs_corpus
@pytest.mark.parametrize(("name", "original", "permanent"), REAL_DSNS)
def test_real_delivery_reports_quoting_our_mail_reach_its_ticket(ticket, name, original, permanent):
    sent = _sent_mail(ticket)
    raw = (CORPUS / name).read_bytes()
    assert original in raw
    result = _ingest(raw.replace(original, sent.message_id.encode()))

    assert result.status == "processed", InboundEmail.objects.get(pk=result.inbound_email_id).error
    assert result.ticket_id == ticket.pk
    assert ticket.messages.filter(author_kind=Message.Author.SYSTEM).exists()
    sent.refresh_from_db()
    if permanent is not None:
        assert (sent.bounced_at is not None) is permanent


@needs_corpus
@pytest.mark.parametrize(("name", "original", "permanent"), REAL_DSNS)
def test_real_delivery_reports_of_mail_we_did_not_send_are_quarantined(
    ticket, name, original, permanent
):
    _sent_mail(ticket)
    result = _ingest((CORPUS / name).read_bytes())
    assert result.status == "quarantined"
    assert _bounced() == []
    assert not ticket.messages.filter(author_kind=Message.Author.SYSTEM).exists()
