"""Writing through the API: the same services (and rules) as the form and the admin."""

import pytest
from django.contrib.auth.models import Group

from notifications.models import Notification
from tests.api.conftest import OPERATOR_PERMISSIONS
from tests.factories import ContactFactory, TicketFactory, UserFactory
from tickets.models import Message, Ticket, TicketEvent, TicketLink

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


@pytest.fixture
def appeal(queue):
    return {
        "queue": queue.pk,
        "channel": "web",
        "kind": "problem",
        "subject": "Не приходит СМС-код",
        "text": "Здравствуйте! Третий день не приходит код подтверждения.",
        "full_name": "Петрова Мария Ивановна",
        "email": "Maria@Example.com",
        "phone": "8 (900) 123-45-67",
        "consent": True,
    }


def test_create_numbers_the_ticket_like_the_form_and_queues_the_auto_reply(
    api, appeal, client, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(URL, appeal)
    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["ticket"]["number"] == ticket.reference
    assert body["status_url"].endswith(ticket.get_status_url())
    assert ticket.requester.email == "maria@example.com"
    assert ticket.requester.phone == "+79001234567"
    auto_reply = Notification.objects.get(reference=ticket.reference)
    assert auto_reply.recipient == "maria@example.com"
    # The next appeal through the public form takes the next number.
    form = {**appeal, "queue": str(queue.pk), "consent": "on", "number": "", "inn": ""}
    client.post("/appeal/", form)
    assert Ticket.objects.order_by("-number").first().number == ticket.number + 1


def test_create_on_behalf_of_the_phone_channel(api, appeal):
    response = api.post(URL, {**appeal, "channel": "phone"})
    assert response.json()["ticket"]["channel"] == "phone"
    assert Message.objects.get().channel == "phone"


def test_phone_ticket_without_email_is_refused_through_the_api_too(api, appeal):
    # Seed 002 §1.12: a phone appeal answered later needs a channel back (the phone
    # screen offers a call-back; the API has only the e-mail).
    response = api.post(URL, {**appeal, "channel": "phone", "email": ""})
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    assert not Ticket.objects.exists()


def test_create_applies_the_forms_rules(api, appeal):
    response = api.post(URL, {**appeal, "email": "", "phone": "", "consent": False})
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "consent" in fields
    assert not Ticket.objects.exists()


def test_create_refuses_a_queue_outside_the_tokens_queues(api_as, appeal, queue, booking_queue):
    response = api_as(queues=[booking_queue]).post(URL, appeal)
    assert response.status_code == 400
    assert "queue" in response.json()["error"]["fields"]


def test_create_with_missing_fields_is_400_not_500(api):
    response = api.post(URL, {"queue": "x"})
    assert response.status_code == 400
    assert {"queue", "subject", "text", "full_name", "consent"} <= set(
        response.json()["error"]["fields"]
    )


def test_reply_answers_the_citizen_and_stops_the_clock(api, api_user, queue, contact):
    ticket = TicketFactory(queue=queue, requester=contact)
    response = api.post(f"{URL}{ticket.pk}/messages/", {"text": "Проверьте папку «Спам»."})
    assert response.status_code == 201
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.assignee == api_user
    assert Notification.objects.filter(reference=ticket.reference).exists()


def test_internal_note_needs_the_internal_scope(api_as, queue):
    ticket = TicketFactory(queue=queue)
    body = {"text": "Для своих", "internal": True}
    refused = api_as(["tickets:read", "tickets:write"]).post(f"{URL}{ticket.pk}/messages/", body)
    assert refused.status_code == 403
    allowed = api_as(["tickets:write", "tickets:internal"]).post(
        f"{URL}{ticket.pk}/messages/", body
    )
    assert allowed.status_code == 201
    assert Message.objects.get().is_internal
    assert not Notification.objects.exists()


def test_transition_follows_the_workflow_table(api, queue):
    ticket = TicketFactory(queue=queue)
    assert api.post(f"{URL}{ticket.pk}/transition/", {"status": "closed"}).status_code == 200
    response = api.post(f"{URL}{ticket.pk}/transition/", {"status": "open"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"


def test_escalate_a_phone_ticket_needs_an_email(api, queue):
    ticket = TicketFactory(queue=queue, channel="phone", requester=ContactFactory(email=""))
    refused = api.post(f"{URL}{ticket.pk}/escalate/", {"note": "Нужен отдел"})
    assert refused.status_code == 400
    assert "requester_email" in refused.json()["error"]["fields"]
    group = Group.objects.create(name="Отдел бронирования")
    response = api.post(
        f"{URL}{ticket.pk}/escalate/",
        {"group": group.pk, "requester_email": "caller@example.com", "note": "Нужен отдел"},
    )
    assert response.status_code == 200
    assert response.json()["line"] == "second"
    assert response.json()["assigned_group"]["name"] == "Отдел бронирования"


def test_link_both_ways_to_a_visible_ticket_only(api, queue, other_queue):
    ticket, target = TicketFactory(queue=queue), TicketFactory(queue=queue)
    hidden = TicketFactory(queue=other_queue)
    response = api.post(
        f"{URL}{ticket.pk}/links/", {"number": target.reference, "kind": "continues"}
    )
    assert response.status_code == 201
    assert TicketLink.objects.filter(source=target, target=ticket, kind="continued_by").exists()
    refused = api.post(f"{URL}{ticket.pk}/links/", {"number": hidden.reference, "kind": "related"})
    assert refused.status_code == 400
    assert not TicketLink.objects.filter(target=hidden).exists()


def test_assign_and_unassign(api, queue, nav_group):
    ticket = TicketFactory(queue=queue)
    colleague = UserFactory(username="colleague", permissions=OPERATOR_PERMISSIONS)
    colleague.groups.add(nav_group)
    assert api.post(f"{URL}{ticket.pk}/assign/", {"assignee": colleague.pk}).status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    assert TicketEvent.objects.filter(ticket=ticket, kind="assigned").exists()
    api.post(f"{URL}{ticket.pk}/assign/", {"assignee": None})
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_assign_to_a_non_staff_user_is_400(api, queue):
    ticket = TicketFactory(queue=queue)
    citizen = UserFactory(username="citizen", is_staff=False)
    assert api.post(f"{URL}{ticket.pk}/assign/", {"assignee": citizen.pk}).status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("messages/", {"text": "Ответ"}),
        ("transition/", {"status": "open"}),
        ("escalate/", {"note": "Нужен отдел"}),
        ("redirect/", {"where": "МФЦ", "what": "Подать заявление"}),
        ("links/", {"number": "SP-0001", "kind": "related"}),
        ("assign/", {"assignee": None}),
    ],
)
def test_every_write_on_another_queues_ticket_is_404(api_as, queue, booking_queue, path, body):
    other = TicketFactory(queue=booking_queue)
    response = api_as(queues=[queue]).post(f"{URL}{other.pk}/{path}", body)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["messages/", "transition/", "escalate/", "redirect/", "links/", "assign/"]
)
def test_every_write_needs_the_change_permission(client, queue, nav_group, path):
    from api.services import api_token_create
    from tests.api.conftest import ApiClient

    viewer = UserFactory(username="viewer", permissions=("tickets.view_ticket",))
    viewer.groups.add(nav_group)
    _token, raw = api_token_create(user=viewer, name="v", scopes=["tickets:write"])
    ticket = TicketFactory(queue=queue)
    response = ApiClient(client, raw).post(f"{URL}{ticket.pk}/{path}", {})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "no_change_permission"


def test_assign_to_an_operator_of_another_queue_is_400(api, queue, booking_queue):
    ticket = TicketFactory(queue=queue)
    outsider = UserFactory(username="outsider", permissions=OPERATOR_PERMISSIONS)
    outsider.groups.add(booking_queue.operators_group)

    response = api.post(f"{URL}{ticket.pk}/assign/", {"assignee": outsider.pk})

    assert response.status_code == 400
    assert "assignee" in response.json()["error"]["fields"]
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_create_without_a_channel_is_an_api_ticket(api, appeal):
    del appeal["channel"]

    response = api.post(URL, appeal)

    assert response.status_code == 201
    assert response.json()["ticket"]["channel"] == "api"
    assert Ticket.objects.get().channel == Ticket.Channel.API
    assert Message.objects.get().channel == "api"


def test_create_answers_with_the_ticket_as_stored(api, appeal):
    created = api.post(URL, appeal).json()["ticket"]

    stored = api.get(URL).json()["results"][0]

    assert {k: v for k, v in created.items() if k != "sla"} == {
        k: v for k, v in stored.items() if k != "sla"
    }
    assert created["sla"]["state"] == stored["sla"]["state"]


def test_create_costs_the_forms_statements_plus_only_the_token_and_its_user(
    api, appeal, client, queue
):
    # The API's create was slower than the form: it re-read the new ticket and asked for
    # the token's queues on every request (bench/README.md, REST API). What is left: the
    # token look-up and its (non-superuser) user's permissions, user's and groups'.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    form = {**appeal, "queue": str(queue.pk), "consent": "on", "email": "other@example.com"}
    client.post("/appeal/", form)  # warm caches both pay once
    api.post(URL, {**appeal, "email": "warm@example.com"})
    with CaptureQueriesContext(connection) as by_form:
        assert client.post("/appeal/", {**form, "email": "f2@example.com"}).status_code == 302
    with CaptureQueriesContext(connection) as by_api:
        assert api.post(URL, {**appeal, "email": "a2@example.com"}).status_code == 201

    assert len(by_api) <= len(by_form) + 3, [q["sql"][:60] for q in by_api]
