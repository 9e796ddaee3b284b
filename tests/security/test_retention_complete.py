"""Anonymisation after the retention period leaves no personal data behind: not in the
subject, the chat sessions, the history, the outbox or the satisfaction comments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import ChatSession
from notifications.models import Notification
from notifications.services import notification_enqueue
from tests.factories import ContactFactory, TicketFactory
from tickets.models import SatisfactionResponse, Ticket, TicketEvent
from tickets.services.retention import contact_anonymise

pytestmark = pytest.mark.django_db

NAME = "Петров Пётр Петрович"
EMAIL = "petrov@example.com"


@pytest.fixture
def contact(db):
    return ContactFactory(full_name=NAME, email=EMAIL, phone="+79001112233")


@pytest.fixture
def ticket(contact):
    return TicketFactory(
        requester=contact,
        subject="Петров П.П., паспорт 4510 123456",
        status=Ticket.Status.CLOSED,
        closed_at=timezone.now() - timedelta(days=400),
    )


def test_anonymisation_erases_the_subject(contact, ticket):
    contact_anonymise(contact=contact)

    ticket.refresh_from_db()
    assert "паспорт" not in ticket.subject


def test_anonymisation_erases_the_chat_sessions_name_and_email(contact, ticket):
    session = ChatSession.objects.create(
        ticket=ticket, queue=ticket.queue, citizen_name=NAME, email=EMAIL
    )

    contact_anonymise(contact=contact)

    session.refresh_from_db()
    assert NAME not in session.citizen_name
    assert session.email == ""


def test_anonymisation_erases_the_requesters_name_and_address_in_history(contact, ticket):
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.CREATED, actor_label=NAME)
    TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.MESSAGE, actor_label=EMAIL)

    contact_anonymise(contact=contact)

    labels = set(TicketEvent.objects.filter(ticket=ticket).values_list("actor_label", flat=True))
    assert NAME not in labels and EMAIL not in labels


def test_anonymisation_erases_the_outbox_copies_of_mail_to_the_requester(contact, ticket):
    notification_enqueue(
        recipient=EMAIL,
        template="chat_transcript",
        kind=Notification.Kind.NOTICE,
        idempotency_key="t1",
        context={"name": NAME, "lines": [{"text": "Мой паспорт 4510 123456"}]},
        reference=ticket.reference,
    )

    contact_anonymise(contact=contact)

    row = Notification.objects.get(idempotency_key="t1")
    assert row.recipient == ""
    assert row.context == {}


def test_anonymisation_erases_satisfaction_comments(contact, ticket):
    SatisfactionResponse.objects.create(
        ticket=ticket, solved=False, rating=1, comment="Петров, звоните 8-900-111-22-33"
    )

    contact_anonymise(contact=contact)

    assert SatisfactionResponse.objects.get().comment == ""
