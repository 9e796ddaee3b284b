"""A number plus an e-mail or phone never hands out a ticket's private status link.

The status look-up shows the state and the deadline and mails the link to the address
on file; an addition through the form is accepted without the link; a chat started with
a number joins the ticket without its link, its requester's address or its history.
"""

import pytest
from django.urls import reverse

from chat import selectors as chat_selectors
from chat import services as chat_services
from chat.models import OperatorPresence
from notifications.models import Notification
from tests.factories import ContactFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db

LOOKUP = "/appeal/status/"


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Не приходит СМС-код",
        text="Секретная переписка: мой СНИЛС 123-456-789 00",
        auto_reply=False,
    )


def _status_links():
    return Notification.objects.filter(template="status_link")


def test_lookup_by_phone_shows_the_status_but_neither_the_link_nor_the_conversation(client, ticket):
    response = client.post(LOOKUP, {"number": ticket.reference, "contact": "+7 900 123-45-67"})

    assert response.status_code == 200
    html = response.content.decode()
    assert ticket.reference in html
    assert ticket.token not in html
    assert "СНИЛС" not in html
    assert "Location" not in response


def test_lookup_mails_the_private_link_to_the_email_on_file_not_to_whoever_asked(client, ticket):
    client.post(LOOKUP, {"number": ticket.reference, "contact": "+79001234567"})

    mail = _status_links().get()
    assert mail.recipient == "maria@example.com"
    assert ticket.token in mail.context["status_url"]


def test_repeated_lookups_mail_the_link_once_an_hour(client, ticket):
    for _ in range(3):
        client.post(LOOKUP, {"number": ticket.reference, "contact": "maria@example.com"})

    assert _status_links().count() == 1


def test_lookup_of_a_phone_only_appeal_points_to_the_confirmation_link(client, queue):
    phone_only = ticket_create(
        queue=queue,
        requester=ContactFactory(email="", phone="+79005554433"),
        channel=Ticket.Channel.WEB,
        subject="Вопрос",
        text="Текст",
    )

    response = client.post(LOOKUP, {"number": phone_only.reference, "contact": "89005554433"})

    assert response.context["found"].link_mailed is False
    assert phone_only.token not in response.content.decode()
    assert not _status_links().exists()


def test_addition_with_an_existing_number_is_accepted_without_the_private_link(
    client, queue, ticket
):
    data = {
        "full_name": "Кто-то",
        "email": "",
        "phone": "+7 900 123-45-67",
        "queue": queue.pk,
        "kind": Ticket.Kind.QUESTION,
        "subject": "Дополнение",
        "text": "Дополняю обращение",
        "number": ticket.reference,
        "consent": "on",
    }

    response = client.post(reverse("tickets:appeal"), data, follow=True)

    assert ticket.messages.filter(text="Дополняю обращение").exists()
    assert ticket.token not in response.redirect_chain[-1][0]
    html = response.content.decode()
    assert ticket.token not in html
    assert "СНИЛС" not in html


@pytest.fixture
def online_operator(db):
    user = UserFactory(username="chat-op")
    chat_services.presence_set(
        user=user, availability=OperatorPresence.Availability.ONLINE, max_chats=3
    )
    return user


def _chat_start(client, queue, **data):
    form = {"full_name": "Кто-то", "queue": queue.pk, "text": "Здравствуйте", **data}
    return client.post("/chat/start/", form)


def test_chat_started_with_a_number_and_phone_returns_no_status_link_or_owner_email(
    client, queue, ticket, online_operator
):
    response = _chat_start(client, queue, number=ticket.reference, phone="+79001234567")

    body = response.content.decode()
    assert response.status_code == 200
    assert response.json()["number"] == ticket.reference
    assert ticket.token not in body
    assert "maria@example.com" not in body
    assert "m***@example.com" not in body  # not even masked: the chat gave no e-mail


def test_chat_joined_by_number_shows_none_of_the_earlier_conversation(
    client, queue, ticket, online_operator
):
    response = _chat_start(client, queue, number=ticket.reference, phone="+79001234567")

    session = chat_selectors.access_chat_for_citizen(response.json()["token"])
    texts = [line["text"] for line in chat_selectors.session_lines(session)]
    assert session.ticket == ticket
    assert texts == ["Здравствуйте"]


def test_transcript_of_a_chat_joined_with_another_email_carries_no_status_link(
    client, queue, ticket, online_operator
):
    response = _chat_start(
        client, queue, number=ticket.reference, phone="+79001234567", email="x@evil.example"
    )
    token = response.json()["token"]

    client.post("/chat/transcript/", {}, HTTP_X_CHAT_TOKEN=token)

    mail = Notification.objects.get(template="chat_transcript")
    assert mail.recipient == "x@evil.example"
    assert mail.context["status_url"] == ""
    assert ticket.token not in str(mail.context)
