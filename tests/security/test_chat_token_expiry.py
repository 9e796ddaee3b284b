"""Citizen credentials do not live for ever: chat tokens expire, status links can be
re-issued by staff (the old link then stops working)."""

import time

import pytest
from django.urls import reverse

from chat import services as chat_services
from chat.selectors import access_chat_for_citizen, chat_token_for
from notifications.models import Notification
from tickets.models import Ticket, TicketEvent
from tickets.selectors import access_ticket_for_requester
from tickets.services import ticket_create, ticket_status_token_rotate

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


def test_chat_token_stops_working_after_its_max_age(queue, settings, monkeypatch):
    settings.CHAT_TOKEN_MAX_AGE = 3600
    session = chat_services.chat_start(
        queue=queue, full_name="Мария", email="maria@example.com", text="Вопрос"
    )
    token = chat_token_for(session)
    assert access_chat_for_citizen(token) == session

    later = time.time() + 3601
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)

    assert access_chat_for_citizen(token) is None


def test_rotated_status_link_old_token_no_longer_opens_the_page(client, ticket, operator):
    old_url = ticket.get_status_url()

    ticket = ticket_status_token_rotate(ticket=ticket, actor=operator)

    assert client.get(old_url).status_code == 404
    assert client.get(ticket.get_status_url()).status_code == 200


def test_rotation_is_recorded_in_history_without_the_token(ticket, operator):
    old = ticket.token

    ticket = ticket_status_token_rotate(ticket=ticket, actor=operator)

    event = TicketEvent.objects.get(ticket=ticket, field="status_link")
    assert event.actor == operator
    for value in (event.old_value, event.new_value, event.note):
        assert old not in value and ticket.token not in value


def test_rotation_mails_the_new_link_to_the_requester(ticket, operator):
    ticket = ticket_status_token_rotate(ticket=ticket, actor=operator)

    mail = Notification.objects.get(template="status_link")
    assert mail.recipient == "maria@example.com"
    assert ticket.token in mail.context["status_url"]


def test_ticket_page_button_re_issues_the_status_link(client, supervisor, ticket):
    old = ticket.token
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {"_action": "rotate_status_link"},
    )

    assert response.status_code == 302
    assert access_ticket_for_requester(ticket.reference, old) is None
    ticket.refresh_from_db()
    assert ticket.token != old
