"""The regulations through the API, as in the admin (issue 19): redirection with guidance
(seed 002 §3.8), the required escalation note (§3.7), and a phone appeal's channel back
(§1.12)."""

import pytest
from django.contrib.auth.models import Group

from notifications.models import Notification
from tests.factories import ContactFactory, TicketFactory
from tickets.models import CallbackRequest, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"
WHERE = "МФЦ «Мои документы», ул. Ленина, 1, тел. 8 800 100-00-00"
WHAT = "Подайте заявление о выдаче справки лично, с паспортом."
GUIDANCE = {"where": WHERE, "what": WHAT}
NOTE = "Просит пересчитать начисление; выписку проверили."


def _redirect(api, ticket, body=GUIDANCE):
    return api.post(f"{URL}{ticket.pk}/redirect/", body)


def test_redirect_resolves_as_redirected_and_mails_the_citizen_the_guidance(api, queue):
    requester = ContactFactory(email="maria@example.com")
    ticket = TicketFactory(queue=queue, requester=requester, status="open")

    response = _redirect(api, ticket)

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["outcome"] == "redirected"
    answer = Message.objects.get(ticket=ticket, author_kind=Message.Author.OPERATOR)
    assert not answer.is_internal and WHERE in answer.text and WHAT in answer.text
    mail = Notification.objects.get(template="redirected")
    assert mail.recipient == "maria@example.com"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ({}, {"where", "what"}),
        ({"where": "  ", "what": WHAT}, {"where"}),
        ({"where": WHERE, "what": ""}, {"what"}),
    ],
)
def test_redirect_requires_where_to_turn_and_what_to_do(api, queue, body, missing):
    ticket = TicketFactory(queue=queue, status="open")

    response = _redirect(api, ticket, body)

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == missing
    ticket.refresh_from_db()
    assert ticket.status == "open" and not Notification.objects.exists()


def test_a_replayed_redirect_is_409_and_sends_nothing_twice(api, queue):
    ticket = TicketFactory(queue=queue, status="open")
    assert _redirect(api, ticket).status_code == 200

    replay = _redirect(api, ticket)

    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "transition_not_allowed"
    assert Notification.objects.filter(template="redirected").count() == 1
    assert Message.objects.filter(ticket=ticket, author_kind="operator").count() == 1


def test_redirect_needs_the_write_scope(api_as, queue):
    ticket = TicketFactory(queue=queue, status="open")

    response = _redirect(api_as(["tickets:read"]), ticket)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "scope_missing"
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_redirect_of_a_ticket_outside_the_tokens_queues_is_404(api_as, queue, booking_queue):
    other = TicketFactory(queue=booking_queue, status="open")

    response = _redirect(api_as(queues=[queue]), other)

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.status == "open" and not Notification.objects.exists()


@pytest.mark.parametrize("note", [None, "", "   "])
def test_escalation_without_a_note_is_refused_with_the_reason(api, queue, note, translations):
    ticket = TicketFactory(queue=queue, status="open")
    body = {} if note is None else {"note": note}

    response = api.post(f"{URL}{ticket.pk}/escalate/", body)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["note"] == [
        "Напишите комментарий для второй линии: о чём просит гражданин и что уже сделано."
    ]
    ticket.refresh_from_db()
    assert ticket.line == Ticket.Line.FIRST and ticket.department_due is None


def test_escalation_records_the_checklist_under_the_note(api, queue):
    ticket = TicketFactory(queue=queue, status="open")
    group = Group.objects.create(name="Отдел расчётов")

    response = api.post(
        f"{URL}{ticket.pk}/escalate/",
        {"group": group.pk, "note": NOTE, "checklist": ["essence", "contact"]},
    )

    assert response.status_code == 200
    assert response.json()["department_due"] is not None
    note = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.ESCALATED).note
    assert note.startswith(NOTE) and "Не передано:" in note


def test_escalation_refuses_an_unknown_checklist_item(api, queue):
    ticket = TicketFactory(queue=queue, status="open")

    response = api.post(f"{URL}{ticket.pk}/escalate/", {"note": NOTE, "checklist": ["bribe"]})

    assert response.status_code == 400
    assert "checklist" in response.json()["error"]["fields"]


@pytest.fixture
def phone_appeal(queue):
    return {
        "queue": queue.pk,
        "channel": "phone",
        "subject": "Справка о доходах",
        "text": "Позвонила, не может скачать справку.",
        "full_name": "Петрова Мария Ивановна",
        "email": "",
        "phone": "8 (900) 123-45-67",
        "consent": True,
    }


def test_phone_appeal_without_email_or_callback_is_refused(api, phone_appeal, translations):
    response = api.post(URL, phone_appeal)

    assert response.status_code == 400
    assert "список обратных звонков" in response.json()["error"]["fields"]["email"][0]
    assert not Ticket.objects.exists() and not CallbackRequest.objects.exists()


def test_phone_appeal_with_a_callback_block_goes_on_the_callback_list(api, phone_appeal):
    body = {**phone_appeal, "callback": {"day": "tomorrow", "window": "morning", "reason": "X"}}

    response = api.post(URL, body)

    assert response.status_code == 201
    callback = CallbackRequest.objects.get()
    assert callback.ticket.reference == response.json()["ticket"]["number"]
    assert callback.phone == "+79001234567"  # the appeal's number
    assert callback.window == "morning" and callback.window_date is not None
    assert callback.reason == "X"
    assert callback.source == CallbackRequest.Source.OPERATOR


def test_phone_appeal_callback_may_name_its_own_number(api, phone_appeal):
    body = {**phone_appeal, "callback": {"phone": "+7 912 345-67-89"}}

    response = api.post(URL, body)

    assert response.status_code == 201
    assert CallbackRequest.objects.get().phone == "+79123456789"


def test_phone_appeal_callback_to_a_bad_number_saves_nothing(api, phone_appeal):
    response = api.post(URL, {**phone_appeal, "callback": {"phone": "12"}})

    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]
    assert not Ticket.objects.exists() and not CallbackRequest.objects.exists()


def test_phone_appeal_callback_day_and_window_go_together(api, phone_appeal):
    response = api.post(URL, {**phone_appeal, "callback": {"window": "evening"}})

    assert response.status_code == 400
    assert "callback" in response.json()["error"]["fields"]
    assert not Ticket.objects.exists()
