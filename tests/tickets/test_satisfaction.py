"""CSAT: the "was it solved?" page confirms before recording; "no" reopens."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from tickets.models import SatisfactionResponse, Ticket, TicketEvent
from tickets.services import message_add_reply, ticket_create
from tickets.services.satisfaction import satisfaction_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(queue, contact, operator):
    ticket = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="СМС", text="?"
    )
    message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)
    ticket.refresh_from_db()
    return ticket


def _url(ticket, **params):
    from urllib.parse import urlencode

    return f"{reverse('tickets:feedback', args=[ticket.reference])}?{urlencode(params)}"


def test_link_from_the_mail_only_shows_a_confirmation_form(client, resolved):
    response = client.get(_url(resolved, t=resolved.token, solved="yes", rating=5))

    assert response.status_code == 200
    assert not SatisfactionResponse.objects.exists()
    form = response.context["form"]
    assert form.initial["solved"] == "yes"
    assert form.initial["rating"] == "5"
    assert 'method="post"' in response.content.decode()
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_wrong_or_missing_token_is_not_found(client, resolved):
    assert client.get(_url(resolved, t="wrong")).status_code == 404
    assert client.get(_url(resolved)).status_code == 404
    response = client.post(_url(resolved), {"t": "wrong", "solved": "yes"})
    assert response.status_code == 404
    assert not SatisfactionResponse.objects.exists()


def test_confirming_yes_records_answer_and_rating(client, resolved):
    response = client.post(
        _url(resolved), {"t": resolved.token, "solved": "yes", "rating": "4", "comment": "Спасибо"}
    )

    assert response.status_code == 200
    answer = SatisfactionResponse.objects.get()
    assert (answer.solved, answer.rating, answer.comment) == (True, 4, "Спасибо")
    resolved.refresh_from_db()
    assert resolved.status == Ticket.Status.RESOLVED
    assert resolved.events.filter(kind=TicketEvent.Kind.SATISFACTION).count() == 1
    assert not Notification.objects.filter(template="csat_no_alert").exists()


def test_confirming_no_reopens_and_alerts_the_assignee(client, resolved, operator):
    client.post(_url(resolved), {"t": resolved.token, "solved": "no", "comment": "Не пришёл"})

    resolved.refresh_from_db()
    assert resolved.status == Ticket.Status.OPEN
    assert resolved.reopened_count == 1
    alert = Notification.objects.get(template="csat_no_alert")
    assert alert.recipient == operator.email
    assert alert.context["comment"] == "Не пришёл"
    assert Notification.objects.filter(template="reopened").count() == 1


def test_no_answer_mails_assignee_and_citizen_after_commit(
    resolved, operator, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        satisfaction_record(ticket=resolved, solved=False, rating=1)
    recipients = sorted(m.to[0] for m in mailoutbox)
    assert recipients == sorted([operator.email, resolved.requester.email])


def test_second_submission_for_the_same_resolution_is_ignored(client, resolved):
    client.post(_url(resolved), {"t": resolved.token, "solved": "yes", "rating": "5"})
    response = client.post(_url(resolved), {"t": resolved.token, "solved": "no"})

    assert SatisfactionResponse.objects.count() == 1
    assert "Ваш ответ уже учтён" in response.content.decode()
    resolved.refresh_from_db()
    assert resolved.status == Ticket.Status.RESOLVED


def test_after_reopen_and_new_resolution_the_citizen_is_asked_again(client, resolved, operator):
    satisfaction_record(ticket=resolved, solved=False)
    message_add_reply(ticket=resolved, author=operator, text="Теперь точно", resolve=True)
    resolved.refresh_from_db()

    _answer, created = satisfaction_record(ticket=resolved, solved=True, rating=5)
    assert created
    assert SatisfactionResponse.objects.count() == 2
    assert Notification.objects.filter(template="resolved").count() == 2


def test_ticket_still_in_work_cannot_be_rated(client, queue, contact):
    ticket = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="СМС", text="?"
    )
    response = client.post(_url(ticket), {"t": ticket.token, "solved": "yes"})

    assert response.status_code == 200
    assert not SatisfactionResponse.objects.exists()
    assert "Обращение ещё в работе" in response.content.decode()


def test_rating_out_of_range_is_refused(client, resolved):
    response = client.post(_url(resolved), {"t": resolved.token, "solved": "yes", "rating": "9"})

    assert response.status_code == 200
    assert not SatisfactionResponse.objects.exists()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_feedback_page_renders_in_both_languages(client, resolved, language):
    response = client.get(_url(resolved, t=resolved.token), HTTP_ACCEPT_LANGUAGE=language)
    body = response.content.decode()
    expected = "Ваша проблема решена?" if language == "ru" else "Was your problem solved?"
    assert expected in body
