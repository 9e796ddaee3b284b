"""«Перезвоните мне» on the appeal form and the status page; the operators' call-back
list, its reveal (audited), the outcome form and the admin home tile."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import CallbackRequest, Ticket
from tickets.services import CallbackWish, callback_request

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/tickets/callbackrequest/"


@pytest.fixture
def data(queue):
    return {
        "full_name": "Петрова Мария Ивановна",
        "email": "maria@example.com",
        "phone": "",
        "queue": str(queue.pk),
        "kind": Ticket.Kind.PROBLEM,
        "subject": "Не приходит СМС-код",
        "text": "Здравствуйте! Третий день не приходит код подтверждения.",
        "consent": "on",
    }


def _callback(ticket, phone="+79123456789"):
    return callback_request(
        ticket=ticket, wish=CallbackWish(phone=phone), source=CallbackRequest.Source.WEB
    )


def test_form_with_call_me_back_ticked_needs_a_phone(client, data, translations):
    response = client.post("/appeal/", {**data, "callback": "on"})

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_form_with_call_me_back_puts_the_appeal_on_the_list_and_says_when(
    client, data, translations
):
    response = client.post(
        "/appeal/",
        {
            **data,
            "phone": "8 (912) 345-67-89",
            "callback": "on",
            "callback_day": "tomorrow",
            "callback_window": "morning",
            "callback_reason": "Хочу объяснить голосом",
        },
        follow=True,
    )

    callback = CallbackRequest.objects.get()
    assert callback.phone == "+79123456789" and callback.window == "morning"
    assert callback.reason == "Хочу объяснить голосом"
    assert "Мы перезвоним вам" in response.content.decode()


def test_form_without_the_tick_makes_no_callback(client, data):
    client.post("/appeal/", {**data, "phone": "+79123456789"})

    assert Ticket.objects.count() == 1
    assert not CallbackRequest.objects.exists()


def test_status_page_call_me_back_creates_the_entry(client, queue, translations):
    ticket = new_ticket(queue)
    url = reverse("tickets:callback", args=[ticket.reference])

    response = client.post(url, {"t": ticket.token, "phone": "+7 912 345-67-89"}, follow=True)

    assert CallbackRequest.objects.get().ticket == ticket
    assert "Мы перезвоним вам" in response.content.decode()


def test_status_page_call_me_back_with_a_wrong_token_is_not_found(client, queue):
    ticket = new_ticket(queue)
    url = reverse("tickets:callback", args=[ticket.reference])

    response = client.post(url, {"t": "wrong", "phone": "+79123456789"})

    assert response.status_code == 404
    assert not CallbackRequest.objects.exists()


def test_callback_list_puts_overdue_entries_first_with_masked_numbers(client, queue, supervisor):
    later = _callback(new_ticket(queue, email="a@example.com"), phone="+79000000001")
    overdue = _callback(new_ticket(queue, email="b@example.com"), phone="+79000000002")
    CallbackRequest.objects.filter(pk=overdue.pk).update(due_at=later.due_at.replace(year=2020))
    client.force_login(supervisor)

    response = client.get(LIST_URL)

    html = response.content.decode()
    assert html.index(f'id="cb-{overdue.pk}"') < html.index(f'id="cb-{later.pk}"')
    assert "+79000000001" not in html and "***-00-01" in html
    assert "tel:" not in html


def test_reveal_shows_the_number_with_a_tel_link_and_is_audited(client, queue, supervisor):
    callback = _callback(new_ticket(queue))
    client.force_login(supervisor)

    response = client.post(reverse("admin:tickets_callbackrequest_reveal", args=[callback.pk]))

    assert 'href="tel:+79123456789"' in response.content.decode()
    event = AuditEvent.objects.get(action="personal_data.viewed")
    assert event.object_ref == f"tickets.callbackrequest:{callback.pk}"


def test_outcome_form_records_the_attempt(client, queue, supervisor):
    callback = _callback(new_ticket(queue))
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:tickets_callbackrequest_outcome", args=[callback.pk]),
        {"outcome": "no_answer", "note": ""},
    )

    assert response.status_code == 302
    callback.refresh_from_db()
    assert callback.attempts == 1 and callback.outcome == "no_answer"


def test_admin_home_tile_counts_the_callbacks_due(client, queue, supervisor):
    callback = _callback(new_ticket(queue))
    CallbackRequest.objects.filter(pk=callback.pk).update(due_at=callback.created_at)
    _callback(new_ticket(queue, email="other@example.com"))
    client.force_login(supervisor)

    html = client.get("/admin/").content.decode()

    assert 'id="ws-tile-callbacks"' in html
    tile = html[html.index('id="ws-tile-callbacks"') :][:300]
    assert "1" in tile and "2" in tile


def test_callback_list_query_count_does_not_grow_with_entries(
    client, queue, django_assert_max_num_queries
):
    group = make_group("Навигатор")
    queue.operators_group = group
    queue.save()
    operator = make_operator("op-list", groups=[group])
    for i in range(20):
        _callback(new_ticket(queue, email=f"c{i}@example.com"))
    client.force_login(operator)
    client.get(LIST_URL)

    with django_assert_max_num_queries(12):
        response = client.get(LIST_URL)

    assert len(response.context["entries"]) == 20


def test_ticket_page_shows_its_callbacks_masked(client, queue, supervisor):
    ticket = new_ticket(queue)
    _callback(ticket)
    client.force_login(supervisor)

    html = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()

    assert 'id="ws-panel-callbacks"' in html
    panel = html[html.index('id="ws-panel-callbacks"') :][:1500]
    assert "+79123456789" not in panel
