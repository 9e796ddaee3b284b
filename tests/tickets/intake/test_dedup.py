"""Duplicates: by Message-ID, by content hash when there is none, within one batch."""

import pytest

from tickets.intake.dedup import content_hash
from tickets.intake.ingest import email_ingest, email_ingest_batch
from tickets.models import InboundEmail, Ticket

pytestmark = pytest.mark.django_db

NO_ID = (
    "Return-Path: <a@example.com>\r\nReceived: by mx1.example; Mon, 1 Jan 2024 10:00:00\r\n"
    "From: a@example.com\r\nTo: navigator@support.example\r\nSubject: Вопрос\r\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0300\r\n\r\nПисьмо без Message-ID\r\n"
).encode()


def ingest(raw: bytes, source=InboundEmail.Source.PIPE):
    return email_ingest(raw, source=source)


def test_a_retry_of_a_message_without_message_id_is_a_duplicate(queue):
    assert ingest(NO_ID).status == "processed"
    assert ingest(NO_ID).status == "duplicate"
    assert Ticket.objects.count() == 1


def test_the_same_message_without_message_id_through_another_door_is_a_duplicate(queue):
    # IMAP hands it over with CRLF, the MTA pipe with LF and its own trace headers.
    ingest(NO_ID, source=InboundEmail.Source.IMAP)
    piped = b"Delivered-To: navigator@support.example\n" + NO_ID.replace(b"\r\n", b"\n")
    assert ingest(piped).status == "duplicate"


def test_two_different_messages_without_message_id_are_two_tickets(queue):
    ingest(NO_ID)
    other = NO_ID.replace(b"Date: Mon, 1 Jan 2024 10:00:00", b"Date: Mon, 1 Jan 2024 10:05:00")
    assert ingest(other).status == "processed"
    assert Ticket.objects.count() == 2


def test_content_hash_ignores_line_endings_and_trace_headers():
    traced = b"Received: from elsewhere\r\n" + NO_ID
    assert content_hash(traced) == content_hash(NO_ID.replace(b"\r\n", b"\n"))


def test_content_hash_sees_a_changed_body():
    assert content_hash(NO_ID) != content_hash(NO_ID + b"P.S.\r\n")


def test_a_quarantined_copy_does_not_make_the_retry_a_duplicate(queue, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 10
    assert ingest(NO_ID).status == "quarantined"
    settings.EMAIL_MAX_MESSAGE_BYTES = 10_000
    assert ingest(NO_ID).status == "processed"


def test_the_same_message_twice_in_one_batch_makes_one_ticket(queue, make_email):
    raw = make_email(message_id="<once@example.com>")
    results = email_ingest_batch([raw, make_email(), raw], source=InboundEmail.Source.IMAP)
    assert [r.status for r in results] == ["processed", "processed", "duplicate"]
    assert Ticket.objects.count() == 2


def test_a_batch_records_every_outcome_on_its_inbound_rows(queue, make_email):
    raws = [make_email(message_id="<a@example.com>"), b"Subject: no sender\r\n\r\nhi\r\n"]
    results = email_ingest_batch(raws, source=InboundEmail.Source.IMAP)
    rows = {row.pk: row for row in InboundEmail.objects.all()}
    processed, quarantined = (rows[r.inbound_email_id] for r in results)
    assert processed.status == InboundEmail.Status.PROCESSED
    assert processed.ticket_id == results[0].ticket_id
    assert processed.message_id == "<a@example.com>"
    assert processed.processed_at is not None
    assert quarantined.status == InboundEmail.Status.QUARANTINED
    assert quarantined.ticket_id is None
    assert quarantined.error == "В письме нет адреса отправителя."
    assert len(quarantined.content_hash) == 64


def test_a_message_in_a_batch_answering_one_earlier_in_it_joins_its_ticket(queue, make_email):
    first = make_email(message_id="<first@example.com>", sender="maria@example.com")
    reply = make_email(
        sender="maria@example.com",
        subject="Re: Не приходит СМС-код",
        headers={"In-Reply-To": "<first@example.com>"},
    )
    results = email_ingest_batch([first, reply], source=InboundEmail.Source.IMAP)
    assert results[0].ticket_id == results[1].ticket_id
    assert Ticket.objects.get().messages.count() == 2


def test_batch_attachments_land_on_the_first_message_of_each_new_ticket(queue, make_email):
    raws = [
        make_email(attachments=[(f"файл{i}.pdf", b"%PDF-" + bytes([i]), "application/pdf")])
        for i in range(3)
    ]
    results = email_ingest_batch(raws, source=InboundEmail.Source.IMAP)
    for i, result in enumerate(results):
        message = Ticket.objects.get(pk=result.ticket_id).messages.get()
        assert [a.filename for a in message.attachments.all()] == [f"файл{i}.pdf"]
