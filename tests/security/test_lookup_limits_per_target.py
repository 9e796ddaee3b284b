"""Guessing numbers or contacts from many addresses runs into per-number and
per-contact limits, at every door where a number and a contact are checked together."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Тема",
        text="Текст",
        auto_reply=False,
    )


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.STATUS_LOOKUP_RATE_LIMIT = 1000
    settings.APPEAL_RATE_LIMIT = 1000
    settings.CHAT_START_RATE_LIMIT = 1000
    settings.LOOKUP_NUMBER_RATE_LIMIT = 3
    settings.LOOKUP_CONTACT_RATE_LIMIT = 3


def _lookup(client, number, contact, n):
    return client.post(
        "/appeal/status/", {"number": number, "contact": contact}, REMOTE_ADDR=f"10.0.0.{n}"
    )


def test_status_lookups_of_one_number_from_many_addresses_are_limited(client, ticket):
    for n in range(3):
        _lookup(client, ticket.reference, f"guess{n}@example.com", n)

    response = _lookup(client, ticket.reference, "maria@example.com", 99)

    assert response.status_code == 429


def test_status_lookups_with_one_contact_from_many_addresses_are_limited(client, ticket):
    for n in range(3):
        _lookup(client, f"SP-{9000 + n}", "+7 900 123-45-67", n)

    response = _lookup(client, ticket.reference, "8 (900) 123-45-67", 99)

    assert response.status_code == 429


def test_earlier_number_on_the_form_is_limited_per_number(client, queue, ticket):
    def post(n):
        data = {
            "full_name": "Кто-то",
            "email": f"guess{n}@example.com",
            "phone": "",
            "queue": queue.pk,
            "kind": Ticket.Kind.QUESTION,
            "subject": "Тема",
            "text": "Текст",
            "number": ticket.reference,
            "consent": "on",
        }
        return client.post(reverse("tickets:appeal"), data, REMOTE_ADDR=f"10.0.1.{n}")

    for n in range(3):
        assert post(n).status_code == 302

    assert post(99).status_code == 429


def test_chat_start_with_a_number_is_limited_per_number(client, queue, ticket):
    def start(n):
        form = {
            "full_name": "Кто-то",
            "email": f"guess{n}@example.com",
            "queue": queue.pk,
            "text": "Вопрос",
            "number": ticket.reference,
        }
        return client.post("/chat/start/", form, REMOTE_ADDR=f"10.0.2.{n}")

    for n in range(3):
        assert start(n).status_code == 400  # wrong e-mail: refused, but counted

    assert start(99).status_code == 429


def test_lookups_without_a_number_on_the_form_are_not_counted_per_target(client, queue):
    ContactFactory(email="maria2@example.com")
    data = {
        "full_name": "Мария",
        "email": "maria2@example.com",
        "phone": "",
        "queue": queue.pk,
        "kind": Ticket.Kind.QUESTION,
        "subject": "Тема",
        "text": "Текст",
        "consent": "on",
    }

    codes = {client.post(reverse("tickets:appeal"), data).status_code for _ in range(5)}

    assert codes == {302}
