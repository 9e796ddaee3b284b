"""Ticket events → outbox rows (tickets/notify.py), delivered through the outbox."""

import pytest
from django.core import mail

from notifications.models import Notification
from notifications.services import message_id_verify
from tickets.models import Ticket
from tickets.services import (
    message_add_from_requester,
    message_add_reply,
    ticket_create,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db


def _create(queue, contact, **kwargs):
    defaults = {"channel": Ticket.Channel.WEB, "subject": "Не приходит СМС", "text": "Помогите"}
    return ticket_create(queue=queue, requester=contact, **{**defaults, **kwargs})


def test_appeal_mails_one_auto_reply_with_number_deadline_and_status_link(
    queue, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, contact)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    message = sent.message()
    assert sent.subject.startswith(f"[{ticket.reference}] ")
    assert sent.to == ["maria@example.com"]
    assert sent.from_email == "Служба поддержки — Сайт Навигатора <navigator@support.example>"
    assert ticket.get_status_url() in sent.body
    assert message["Auto-Submitted"] == "auto-replied"
    assert message_id_verify(message["Message-ID"]) == ticket.reference


def test_auto_reply_in_english_for_an_english_appeal(
    queue, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _create(queue, contact, language="en")
    assert "has been received" in mail.outbox[0].subject


def test_emailed_appeal_is_answered_in_its_thread(
    queue, contact, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, contact, channel=Ticket.Channel.EMAIL, email_message_id="<m1@x>")
        message_add_reply(ticket=ticket, author=operator, text="Ответ")
    auto_reply, answer = (m.message() for m in mail.outbox)
    assert auto_reply["In-Reply-To"] == "<m1@x>"
    assert answer["In-Reply-To"] == "<m1@x>"
    assert answer["References"].split() == ["<m1@x>", auto_reply["Message-ID"]]
    assert answer["Auto-Submitted"] is None


def test_web_appeal_answer_threads_under_our_auto_reply(
    queue, contact, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, contact)
        message_add_reply(ticket=ticket, author=operator, text="Ответ")
    auto_reply, answer = (m.message() for m in mail.outbox)
    assert answer["In-Reply-To"] == auto_reply["Message-ID"]


def test_resolving_asks_was_it_solved_with_rating_links(
    queue, contact, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, contact)
        message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)
    resolved = mail.outbox[-1]
    assert len(mail.outbox) == 2  # auto-reply, then the answer + "solved?" in one mail
    assert "Готово" in resolved.body
    assert f"/appeal/{ticket.reference}/feedback/?t={ticket.token}&solved=no" in resolved.body
    assert "rating=5" in resolved.body
    assert resolved.message()["Auto-Submitted"] == "auto-generated"


def test_reply_from_citizen_reopens_and_confirms_once(
    queue, contact, operator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, contact)
        ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=operator)
        message_add_from_requester(ticket=ticket, text="Не помогло", channel="web")
    templates = list(Notification.objects.order_by("pk").values_list("template", flat=True))
    assert templates == ["auto_reply", "resolved", "reopened"]
    assert len(mail.outbox) == 3


def test_phone_appeal_without_email_writes_no_row(queue, django_capture_on_commit_callbacks):
    from tests.factories import ContactFactory

    caller = ContactFactory(email="")
    with django_capture_on_commit_callbacks(execute=True):
        _create(queue, caller, channel=Ticket.Channel.PHONE)
    assert not Notification.objects.exists()


def test_requester_using_a_queue_address_gets_no_auto_reply(
    queue, other_queue, django_capture_on_commit_callbacks
):
    from tests.factories import ContactFactory

    loop = ContactFactory(email="booking@support.example")
    with django_capture_on_commit_callbacks(execute=True):
        _create(queue, loop)
    row = Notification.objects.get()
    assert row.status == Notification.Status.SUPPRESSED
    assert mail.outbox == []


def test_a_queue_address_added_later_is_never_auto_replied_to(
    queue, other_queue, django_capture_on_commit_callbacks
):
    from tests.factories import ContactFactory

    _create(queue, ContactFactory(email="first@example.com"))  # fills the address cache
    other_queue.email_address = "new-booking@support.example"
    other_queue.save()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, ContactFactory(email="new-booking@support.example"))
    row = Notification.objects.get(reference=ticket.reference)
    assert row.status == Notification.Status.SUPPRESSED
