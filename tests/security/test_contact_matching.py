"""An appeal is filed under the e-mail typed on it; a phone alone never joins identities."""

import pytest
from django.urls import reverse

from chat import services as chat_services
from notifications.models import Notification
from tests.factories import ContactFactory
from tickets.models import Contact, Ticket
from tickets.services import contact_get_or_create, ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(db):
    return ContactFactory(
        full_name="Петрова Мария", email="maria@example.com", phone="+79001234567"
    )


def _form(queue, **data):
    return {
        "full_name": "Сидоров Пётр",
        "email": "petr@example.com",
        "phone": "+7 900 123-45-67",
        "queue": queue.pk,
        "kind": Ticket.Kind.QUESTION,
        "subject": "Мой вопрос",
        "text": "Мой личный вопрос",
        "consent": "on",
        **data,
    }


def test_new_email_with_a_known_phone_gets_its_own_contact(maria):
    contact = contact_get_or_create(
        full_name="Сидоров Пётр", email="petr@example.com", phone="+7 900 123-45-67"
    )

    assert contact.pk != maria.pk
    assert contact.email == "petr@example.com"
    maria.refresh_from_db()
    assert maria.email == "maria@example.com"


def test_web_appeal_auto_reply_goes_to_the_email_typed_not_the_one_on_file(client, queue, maria):
    client.post(reverse("tickets:appeal"), _form(queue))

    ticket = Ticket.objects.get()
    assert ticket.requester.email == "petr@example.com"
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert recipients == {"petr@example.com"}
    assert not maria.tickets.exists()


def test_phone_only_appeal_never_joins_a_contact_that_has_an_email(queue, maria):
    contact = contact_get_or_create(full_name="Кто-то", phone="8 900 123 45 67")
    ticket = ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Вопрос",
        text="Текст",
    )

    assert contact.pk != maria.pk
    assert not Notification.objects.filter(reference=ticket.reference).exists()


def test_phone_only_appeal_joins_a_phone_only_contact(db):
    first = contact_get_or_create(full_name="Звонивший", phone="+79005554433")

    again = contact_get_or_create(full_name="Звонивший", phone="8 900 555-44-33")

    assert again.pk == first.pk


def test_known_email_keeps_its_contact_and_address(maria):
    contact = contact_get_or_create(full_name="Мария", email="MARIA@example.com", phone="")

    assert contact.pk == maria.pk
    assert contact.email == "maria@example.com"


def test_email_given_later_is_not_added_to_a_phone_only_contact(db):
    phone_only = ContactFactory(full_name="Звонивший", email="", phone="+79005554433")

    contact = contact_get_or_create(
        full_name="Другой", email="other@example.com", phone="+79005554433"
    )

    phone_only.refresh_from_db()
    assert contact.pk != phone_only.pk
    assert phone_only.email == ""


def test_chat_with_a_new_email_and_a_known_phone_is_filed_under_the_new_email(queue, maria):
    session = chat_services.chat_start(
        queue=queue,
        full_name="Сидоров Пётр",
        email="petr@example.com",
        phone="+79001234567",
        text="Вопрос в чат",
    )

    assert session.ticket.requester.email == "petr@example.com"
    assert Contact.objects.filter(phone="+79001234567").count() == 2


def test_ticket_page_hints_that_another_requester_shares_the_phone(
    client, supervisor, queue, maria
):
    petr = contact_get_or_create(
        full_name="Сидоров Пётр", email="petr@example.com", phone="+79001234567"
    )
    ticket = ticket_create(
        queue=queue, requester=petr, channel=Ticket.Channel.WEB, subject="Тема", text="Текст"
    )
    client.force_login(supervisor)

    response = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))

    assert response.context["same_person"] == [
        {"name": "Петрова Мария", "email": "maria@example.com", "phone": "+79001234567"}
    ]
