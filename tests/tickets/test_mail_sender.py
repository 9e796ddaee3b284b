"""Mail to citizens comes from the queue's address under a name people recognise."""

from email.header import decode_header, make_header
from email.utils import parseaddr

import pytest

from notifications.delivery import notification_build_email
from notifications.models import Notification
from tests.factories import QueueFactory
from tickets.notify import queue_sender
from tickets.services import contact_get_or_create, ticket_create

pytestmark = pytest.mark.django_db


def test_the_sender_is_the_queue_address_with_a_display_name(queue, translations):
    assert (
        queue_sender(queue, "ru")
        == "Служба поддержки — Сайт Навигатора <navigator@support.example>"
    )
    assert (
        queue_sender(queue, "en") == "Support service — Сайт Навигатора <navigator@support.example>"
    )


def test_a_queue_without_an_address_leaves_the_default_sender(settings):
    queue = QueueFactory(email_address="")

    assert queue_sender(queue, "ru") == ""


def test_a_name_too_long_for_the_outbox_falls_back_to_the_bare_address(queue):
    queue.name = "Очень длинное название " * 15

    assert queue_sender(queue, "ru") == "navigator@support.example"


def test_the_auto_reply_goes_out_under_the_display_name(queue, translations):
    requester = contact_get_or_create(
        full_name="Петрова Мария Ивановна", email="maria@example.com", phone=""
    )
    ticket = ticket_create(
        queue=queue, requester=requester, channel="web", subject="Вход", text="Не вхожу"
    )
    email = notification_build_email(
        Notification.objects.get(reference=ticket.reference, template="auto_reply")
    )

    assert parseaddr(email.from_email) == (
        "Служба поддержки — Сайт Навигатора",
        queue.email_address,
    )
    assert email.subject == f"[{ticket.reference}] Ваше обращение принято"
    assert email.body.startswith("Здравствуйте, Мария Ивановна!")
    header = str(make_header(decode_header(email.message()["From"])))
    assert header == "Служба поддержки — Сайт Навигатора <navigator@support.example>"
