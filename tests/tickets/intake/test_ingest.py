"""email_ingest: raw kept first, quarantine on any failure, retry and turn into ticket."""

import pytest

from tickets.intake.ingest import email_ingest, email_process
from tickets.models import Attachment, InboundEmail, Message, Ticket

pytestmark = pytest.mark.django_db


def ingest(raw: bytes):
    return email_ingest(raw, source=InboundEmail.Source.PIPE)


def fail_ticket_writes(patch, *, when=lambda subject: True, error="this one fails"):
    """Creating a ticket raises, whichever way the intake writes it: at once
    (`ticket_create`) or with the batch's others (`tickets_create_many`)."""
    from tickets.intake import context as context_module
    from tickets.intake import route as route_module

    real_one, real_many = route_module.ticket_create, context_module.tickets_create_many

    def one(**kwargs):
        if when(kwargs["subject"]):
            raise RuntimeError(error)
        return real_one(**kwargs)

    def many(*, drafts):
        if any(when(draft.subject) for draft in drafts):
            raise RuntimeError(error)
        return real_many(drafts=drafts)

    patch.setattr(route_module, "ticket_create", one)
    patch.setattr(context_module, "tickets_create_many", many)


def test_raw_bytes_are_kept_and_linked_from_the_message(make_email, queue):
    raw = make_email()
    result = ingest(raw)
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert inbound.raw.read() == raw
    assert inbound.ticket_id == result.ticket_id
    assert Message.objects.get(ticket_id=result.ticket_id).inbound_email == inbound


def test_message_keeps_stripped_text_full_text_and_message_id(make_email, queue):
    body = "Новый вопрос\n\n-----Original Message-----\nстарое"
    result = ingest(make_email(body=body, message_id="<m1@example.com>"))
    message = Message.objects.get(ticket_id=result.ticket_id)
    assert message.text == "Новый вопрос"
    assert "старое" in message.full_text
    assert message.email_message_id == "<m1@example.com>"


def test_attachments_of_any_type_are_stored_on_the_ticket(make_email, queue):
    result = ingest(
        make_email(
            attachments=[
                ("данные.xml", b"<a/>", "application/xml"),
                ("x.exe", b"MZ", "application/octet-stream"),
            ]
        )
    )
    names = sorted(
        Attachment.objects.filter(ticket_id=result.ticket_id).values_list("filename", flat=True)
    )
    assert names == ["x.exe", "данные.xml"]


def test_oversize_message_is_quarantined_with_its_raw_kept(make_email, queue, settings):
    settings.EMAIL_MAX_MESSAGE_BYTES = 100
    raw = make_email(body="x" * 500)
    result = ingest(raw)
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert result.status == "quarantined"
    assert "100" in inbound.error  # the limit is named
    assert inbound.raw.read() == raw


def test_any_failure_while_routing_quarantines_instead_of_raising(make_email, queue, monkeypatch):
    fail_ticket_writes(monkeypatch, error="database said no")
    result = ingest(make_email())
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert result.status == "quarantined"
    assert "database said no" in inbound.error
    assert inbound.subject == "Не приходит СМС-код"
    assert not Ticket.objects.exists()


def test_retry_of_a_quarantined_message_creates_the_ticket(
    make_email, queue, monkeypatch, operator
):
    with monkeypatch.context() as patch:
        fail_ticket_writes(patch)
        result = ingest(make_email())
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    retried = email_process(inbound=inbound, actor=operator)
    inbound.refresh_from_db()
    assert retried.status == "processed"
    assert inbound.status == InboundEmail.Status.PROCESSED
    assert inbound.retried_by == operator
    assert inbound.error == ""


def test_turn_into_ticket_puts_an_unroutable_message_in_the_chosen_queue(
    queue, other_queue, operator
):
    result = ingest("Subject: no sender\r\n\r\nПомогите".encode())
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert result.status == "quarantined"
    done = email_process(inbound=inbound, queue=other_queue, force_new=True, actor=operator)
    ticket = Ticket.objects.get(pk=done.ticket_id)
    assert ticket.queue == other_queue
    assert "Помогите" in ticket.messages.get().text


def test_no_queue_at_all_quarantines(make_email, db):
    assert ingest(make_email()).status == "quarantined"


def test_message_to_an_unknown_address_falls_back_to_the_first_active_queue(make_email, queue):
    result = ingest(make_email(to="nobody@elsewhere.example"))
    assert Ticket.objects.get(pk=result.ticket_id).queue == queue


def test_delivered_to_chooses_the_queue_over_to(make_email, queue, other_queue):
    raw = make_email(to="list@example.com", headers={"Delivered-To": "booking@support.example"})
    result = ingest(raw)
    assert Ticket.objects.get(pk=result.ticket_id).queue == other_queue


def test_inline_image_is_stored_inline_with_its_content_id(queue):
    raw = (
        b"From: a@example.com\r\nTo: navigator@support.example\r\nSubject: x\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="B"\r\n\r\n'
        b'--B\r\nContent-Type: text/html\r\n\r\n<p>see <img src="cid:img1@x"></p>\r\n'
        b"--B\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--B--\r\n"
    )
    result = ingest(raw)
    attachment = Attachment.objects.get(ticket_id=result.ticket_id)
    assert attachment.is_inline
    assert attachment.content_id == "img1@x"


def test_batch_ingest_quarantines_only_the_failing_message(make_email, queue, monkeypatch):
    from tickets.intake.ingest import email_ingest_batch

    fail_ticket_writes(monkeypatch, when=lambda subject: subject == "bad")
    raws = [make_email(subject="one"), make_email(subject="bad"), make_email(subject="three")]
    results = email_ingest_batch(raws, source=InboundEmail.Source.IMAP)
    assert [r.status for r in results] == ["processed", "quarantined", "processed"]
    assert sorted(Ticket.objects.values_list("subject", flat=True)) == ["one", "three"]
    assert InboundEmail.objects.count() == 3


def test_absurdly_long_message_id_is_cut_to_fit_the_index(queue):
    raw = (
        "From: a@example.com\r\nMessage-ID: <" + "я" * 3000 + "@x>\r\nSubject: x\r\n\r\nhi"
    ).encode()
    result = ingest(raw)
    assert result.status == "processed"
    assert len(InboundEmail.objects.get().message_id) <= 300


def test_batch_rerun_after_a_failure_keeps_every_other_outcome(
    make_email, queue, monkeypatch, caplog
):
    from tickets.intake.ingest import email_ingest_batch

    fail_ticket_writes(monkeypatch, when=lambda subject: subject == "bad")
    raws = [
        b"Subject: no sender\r\n\r\nhello\r\n",  # quarantined before the failure
        make_email(subject="one", message_id="<one@example.com>"),
        make_email(subject="bad"),
        make_email(subject="one", message_id="<one@example.com>"),  # the same again
    ]
    results = email_ingest_batch(raws, source=InboundEmail.Source.IMAP)
    assert [r.status for r in results] == ["quarantined", "processed", "quarantined", "duplicate"]
    assert "this one fails" in results[2].error
    assert InboundEmail.objects.get(pk=results[0].inbound_email_id).error != ""
    assert list(Ticket.objects.values_list("subject", flat=True)) == ["one"]
    # the savepoint-per-message rerun did it, not the one-transaction-each last resort
    assert "retried one savepoint each" in caplog.text
    assert "rolled back" not in caplog.text
