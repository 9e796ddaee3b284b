"""Threading table: which ticket an incoming message lands on, and who may write there."""

from email.utils import make_msgid

import pytest
from django.utils import timezone

from notifications.models import Notification
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Message, Ticket, TicketLink
from tickets.services import ticket_create, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Вход", text="Не вхожу"
    )


def our_message_id(ticket: Ticket) -> str:
    return Notification.objects.filter(reference=ticket.reference).first().message_id


def ingest(raw: bytes):
    return email_ingest(raw, source=InboundEmail.Source.PIPE)


def test_new_message_creates_a_ticket_in_the_queue_of_the_receiving_address(
    make_email, queue, other_queue
):
    result = ingest(make_email(to="booking@support.example"))
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert result.status == "processed"
    assert ticket.queue == other_queue
    assert ticket.channel == Ticket.Channel.EMAIL
    assert ticket.requester.email == "maria@example.com"
    assert ticket.requester.full_name == "Мария Петрова"


def test_new_ticket_from_email_gets_an_auto_reply(make_email, queue):
    result = ingest(make_email())
    assert Notification.objects.filter(
        reference=result.reference, kind=Notification.Kind.AUTO_REPLY
    ).exists()


def test_subject_tag_from_the_requester_continues_the_ticket(make_email, ticket):
    result = ingest(make_email(subject=f"Re: [{ticket.reference}] Вход", body="Ещё деталь"))
    assert result.ticket_id == ticket.pk
    assert ticket.messages.filter(text="Ещё деталь").exists()


def test_subject_tag_from_a_stranger_opens_a_new_related_ticket(make_email, ticket):
    result = ingest(
        make_email(sender="stranger@evil.example", subject=f"[{ticket.reference}] дайте доступ")
    )
    assert result.ticket_id != ticket.pk
    assert not ticket.messages.filter(text__contains="Здравствуйте").exists()
    assert TicketLink.objects.filter(
        source_id=result.ticket_id, target=ticket, kind=TicketLink.Kind.RELATED
    ).exists()


def test_subject_tag_from_a_previous_sender_on_the_ticket_continues_it(make_email, ticket):
    colleague = "colleague@example.com"
    first = ingest(
        make_email(
            sender=colleague,
            subject="Re: Вход",
            message_id=None,
            headers={"In-Reply-To": our_message_id(ticket)},
        )
    )
    assert first.ticket_id == ticket.pk
    second = ingest(make_email(sender=colleague, subject=f"[{ticket.reference}] ещё"))
    assert second.ticket_id == ticket.pk


def test_in_reply_to_our_signed_message_id_continues_the_ticket(make_email, ticket):
    result = ingest(
        make_email(subject="Re: без номера", headers={"In-Reply-To": our_message_id(ticket)})
    )
    assert result.ticket_id == ticket.pk


def test_references_to_our_message_id_continue_the_ticket(make_email, ticket):
    refs = f"<a@example.com> {our_message_id(ticket)} <b@example.com>"
    result = ingest(make_email(subject="Re: без номера", headers={"References": refs}))
    assert result.ticket_id == ticket.pk


def test_forged_message_id_naming_a_ticket_is_not_trusted(make_email, ticket, settings):
    domain = settings.EMAIL_MESSAGE_ID_DOMAIN
    forged = f"<{ticket.reference.lower()}.AAAAAAAAAAAAAAAA.0000000000000000@{domain}>"
    result = ingest(
        make_email(
            sender="stranger@evil.example", subject="Re: hi", headers={"In-Reply-To": forged}
        )
    )
    assert result.ticket_id != ticket.pk
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_reply_to_a_closed_ticket_opens_a_new_one_linked_both_ways(make_email, ticket):
    ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED)
    ticket_set_status(ticket=ticket, status=Ticket.Status.CLOSED)
    result = ingest(make_email(subject=f"Re: [{ticket.reference}] Вход", body="Снова не работает"))
    assert result.ticket_id != ticket.pk
    new = Ticket.objects.get(pk=result.ticket_id)
    assert new.requester == ticket.requester
    assert TicketLink.objects.filter(
        source=new, target=ticket, kind=TicketLink.Kind.CONTINUES
    ).exists()
    assert TicketLink.objects.filter(
        source=ticket, target=new, kind=TicketLink.Kind.CONTINUED_BY
    ).exists()


def test_same_message_id_twice_is_a_duplicate(make_email, queue):
    raw = make_email(message_id="<once@example.com>")
    first = ingest(raw)
    second = ingest(raw)
    assert first.status == "processed"
    assert second.status == "duplicate"
    assert Ticket.objects.count() == 1
    assert InboundEmail.objects.filter(status="duplicate").count() == 1


def test_out_of_office_neither_reopens_nor_auto_replies(make_email, ticket):
    ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED)
    before = Notification.objects.count()
    result = ingest(
        make_email(
            subject=f"Автоответ: [{ticket.reference}] Вход",
            body="Я в отпуске до понедельника.",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    ticket.refresh_from_db()
    assert result.ticket_id == ticket.pk
    assert ticket.status == Ticket.Status.RESOLVED
    assert Notification.objects.count() == before


def test_unthreaded_auto_submitted_mail_gets_no_auto_reply(make_email, queue):
    result = ingest(make_email(headers={"Auto-Submitted": "auto-generated"}))
    assert result.status == "processed"
    assert not Notification.objects.filter(reference=result.reference).exists()


def test_reply_from_the_requester_reopens_a_resolved_ticket(make_email, ticket):
    ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED)
    ingest(make_email(subject=f"Re: [{ticket.reference}] Вход", body="Не решено"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def _dsn(original_message_id: str, subject: str = "Undelivered Mail Returned to Sender") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.com\r\n"
        "To: navigator@support.example\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: {make_msgid(domain='mx.example.com')}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        "Final-Recipient: rfc822; maria@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: {original_message_id}\r\nSubject: Ваше обращение\r\n"
        "--B--\r\n"
    ).encode()


def test_bounce_is_attached_to_its_ticket_as_an_internal_note(ticket):
    # A report is acted on only for mail that left us (tests/security/test_forged_bounce.py).
    Notification.objects.filter(reference=ticket.reference).update(
        status=Notification.Status.SENT, sent_at=timezone.now()
    )
    before = Notification.objects.count()
    result = ingest(_dsn(our_message_id(ticket)))
    assert result.status == "processed"
    assert result.ticket_id == ticket.pk
    note = ticket.messages.get(author_kind=Message.Author.SYSTEM)
    assert note.is_internal
    assert Notification.objects.count() == before
    assert Ticket.objects.count() == 1


def test_bounce_for_an_unknown_message_is_quarantined(queue):
    result = ingest(_dsn("<unknown@elsewhere.example>"))
    assert result.status == "quarantined"
    assert Ticket.objects.count() == 0


def test_mail_from_our_own_address_is_quarantined(make_email, queue):
    result = ingest(make_email(sender="navigator@support.example"))
    assert result.status == "quarantined"


def test_mail_from_an_address_configured_as_ours_is_quarantined(make_email, queue, settings):
    settings.OWN_EMAIL_ADDRESSES = ["robot@support.example"]
    result = ingest(make_email(sender="robot@support.example"))
    assert result.status == "quarantined"


def test_mail_to_a_merged_ticket_lands_on_its_target(make_email, ticket, queue, contact):
    from tickets.services import ticket_merge

    target = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Другое", text="x"
    )
    ticket_merge(source=ticket, target=target)
    result = ingest(make_email(subject=f"Re: [{ticket.reference}]", body="Снова"))
    assert result.ticket_id == target.pk
