"""The "register call" screen (regulation 002 §1): find, continue or create, read out."""

import pytest
from django.urls import reverse

from tests.tickets.admin_helpers import new_ticket
from tickets.models import Contact, Ticket, TicketEvent, TicketLink
from tickets.services import ticket_set_status

pytestmark = pytest.mark.django_db

URL = reverse("admin:tickets_ticket_register_call")


def _done_ticket(response) -> Ticket:
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket_id = int(response["Location"].rstrip("/").rsplit("/", 1)[1])
    return Ticket.objects.get(pk=ticket_id)


def _new_call(**overrides):
    data = {
        "full_name": "Смирнов Олег Петрович",
        "phone": "8 (903) 111-22-33",
        "email": "",
        "inn": "",
        "queue": "",
        "kind": "question",
        "subject": "Не могу записаться",
        "text": "Звонит, не может записаться на приём.",
    }
    return {**data, **overrides}


def test_register_call_is_linked_from_the_admin_index(client, supervisor):
    client.force_login(supervisor)

    assert URL in client.get(reverse("admin:index")).content.decode()


def test_search_by_number_finds_the_ticket_to_continue(client, supervisor, queue):
    ticket = new_ticket(queue)
    new_ticket(queue, name="Другой", email="other@example.com")
    client.force_login(supervisor)

    response = client.get(URL, {"q": f"SP {ticket.number}"})

    assert [row["ticket"] for row in response.context["results"]] == [ticket]


def test_search_by_phone_finds_the_callers_tickets(client, supervisor, queue):
    ticket = new_ticket(queue, email="", phone="+79031112233")
    client.force_login(supervisor)

    response = client.get(URL, {"q": "8 903 111-22-33"})

    assert [row["ticket"] for row in response.context["results"]] == [ticket]


def test_search_by_name_and_date_finds_a_lost_number(client, supervisor, queue):
    ticket = new_ticket(queue, name="Кузнецова Анна", email="anna@example.com")
    client.force_login(supervisor)
    day = ticket.created_at.astimezone().date().isoformat()

    response = client.get(URL, {"q": "Кузнецова", "on_date": day})

    assert [row["ticket"] for row in response.context["results"]] == [ticket]
    assert client.get(URL, {"q": "Кузнецова", "on_date": "2001-01-01"}).context["results"] == []


def test_continue_by_number_adds_a_phone_note_recorded_by_the_operator(client, supervisor, queue):
    ticket = new_ticket(queue)
    client.force_login(supervisor)

    response = client.post(
        URL, {"ticket": ticket.pk, "kind": "question", "text": "Перезвонила, уточняет сроки."}
    )

    assert _done_ticket(response) == ticket
    note = ticket.messages.order_by("-id").first()
    assert note.text == "Перезвонила, уточняет сроки."
    assert (note.channel, note.author_kind, note.author) == ("phone", "requester", supervisor)


def test_new_call_creates_a_phone_ticket_and_shows_the_number_large(client, supervisor, queue):
    client.force_login(supervisor)

    response = client.post(URL, _new_call(queue=queue.pk, inn="7707083893", callback="on"))

    ticket = _done_ticket(response)
    assert ticket.channel == Ticket.Channel.PHONE
    assert ticket.requester.phone == "+79031112233"
    assert ticket.requester.inn == "7707083893"
    assert ticket.events.get(kind=TicketEvent.Kind.CREATED).actor == supervisor
    page = client.get(response["Location"]).content.decode()
    assert f'<p class="ws-big-number" id="ticket-number">{ticket.reference}</p>' in page


def test_solved_during_the_call_marks_first_contact_resolution(client, supervisor, queue):
    client.force_login(supervisor)

    ticket = _done_ticket(client.post(URL, _new_call(queue=queue.pk, solved="on")))

    assert ticket.first_contact_resolution is True
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.events.filter(field="first_contact_resolution").exists()


def test_hand_to_line_two_without_email_is_refused_with_a_message_and_saves_nothing(
    client, supervisor, queue
):
    client.force_login(supervisor)

    response = client.post(URL, _new_call(queue=queue.pk, escalate="on"), HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    assert "нужен e-mail заявителя для ответа" in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Contact.objects.exists()


def test_hand_to_line_two_with_email_escalates(client, supervisor, queue):
    client.force_login(supervisor)

    ticket = _done_ticket(
        client.post(URL, _new_call(queue=queue.pk, escalate="on", email="oleg@example.com"))
    )

    assert ticket.line == Ticket.Line.SECOND
    assert ticket.requester.email == "oleg@example.com"


def test_call_on_a_closed_ticket_opens_a_new_linked_one(client, supervisor, queue):
    old = new_ticket(queue)
    ticket_set_status(ticket=old, status=Ticket.Status.CLOSED)
    client.force_login(supervisor)

    new = _done_ticket(
        client.post(URL, {"ticket": old.pk, "kind": "question", "text": "Снова не работает."})
    )

    assert new != old
    assert TicketLink.objects.filter(source=new, target=old, kind="continues").exists()
    assert new.messages.get().channel == Ticket.Channel.PHONE


def test_new_call_needs_a_service_and_a_name(client, supervisor):
    client.force_login(supervisor)

    response = client.post(URL, _new_call(full_name=""))

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Ticket.objects.exists()


def test_call_search_results_mask_personal_data(client, supervisor, queue):
    new_ticket(queue, name="Кузнецова Анна Сергеевна", email="anna@example.com")
    client.force_login(supervisor)

    html = client.get(URL, {"q": "anna@example.com"}).content.decode()

    results = html.split('class="ws-results"')[1].split("</table>")[0]
    assert "Кузнецова А. С." in results and "a***@example.com" in results
    assert "anna@example.com" not in results


def test_a_searched_name_is_carried_into_the_new_appeal_form(client, supervisor, queue):
    new_ticket(queue, name="Кузнецова Анна", email="anna@example.com")
    client.force_login(supervisor)

    for query in ("Кузнецова Анна", "Соловьёва Мария"):  # found and not found
        form = client.get(URL, {"q": query}).context["form"]
        assert form.initial["full_name"] == query


@pytest.mark.parametrize("typed", ["+7903", "+7 903 11", "8903", "8 903", "903 111", "8-903-1"])
def test_search_by_the_start_of_a_phone_number(client, supervisor, queue, typed):
    ticket = new_ticket(queue, email="", phone="+79031112233")
    new_ticket(queue, name="Другой", email="", phone="+79161112233")
    client.force_login(supervisor)

    response = client.get(URL, {"q": typed})

    assert [row["ticket"] for row in response.context["results"]] == [ticket]


def test_a_short_number_that_looks_like_a_phone_start_finds_the_ticket_too(
    client, supervisor, queue
):
    ticket = new_ticket(queue)
    client.force_login(supervisor)
    from tickets.models import Ticket as T

    T.objects.filter(pk=ticket.pk).update(number=8903)

    response = client.get(URL, {"q": "8903"})

    assert [row["ticket"].number for row in response.context["results"]] == [8903]


def test_after_a_refused_submit_focus_is_on_the_field_with_the_error(client, supervisor, queue):
    client.force_login(supervisor)

    response = client.post(URL, _new_call(queue=queue.pk, escalate="on"))
    html = response.content.decode()

    assert 'id="call-q"' in html
    assert "autofocus" not in html[html.index('id="call-q"') - 200 : html.index('id="call-q"')]
    email = html[html.index('name="email"') - 200 : html.index('name="email"') + 200]
    assert "autofocus" in email
    assert 'aria-invalid="true"' in email


# --- Seed 002 §1.12: a phone appeal answered later needs a channel back ----------------


def test_phone_ticket_left_open_without_email_or_callback_is_refused_and_saves_nothing(
    client, supervisor, queue
):
    client.force_login(supervisor)

    response = client.post(URL, _new_call(queue=queue.pk), HTTP_ACCEPT_LANGUAGE="ru")

    assert response.status_code == 200
    errors = response.context["form"].errors["email"]
    assert errors == [
        "Ответ будет дан позже: укажите e-mail заявителя или поставьте его в список "
        "обратных звонков, иначе ответ до него не дойдёт."
    ]
    assert not Ticket.objects.exists()
    assert not Contact.objects.exists()


def test_phone_ticket_left_open_with_email_is_saved_open(client, supervisor, queue):
    client.force_login(supervisor)

    ticket = _done_ticket(client.post(URL, _new_call(queue=queue.pk, email="oleg@example.com")))

    assert ticket.is_open
    assert not ticket.callbacks.exists()


def test_phone_ticket_left_open_with_callback_goes_on_the_callback_list(client, supervisor, queue):
    client.force_login(supervisor)

    ticket = _done_ticket(client.post(URL, _new_call(queue=queue.pk, callback="on")))

    callback = ticket.callbacks.get()
    assert (callback.phone, callback.source) == ("+79031112233", "operator")
    assert callback.is_open
    assert ticket.events.filter(kind=TicketEvent.Kind.CALLBACK).exists()


def test_phone_callback_without_a_number_asks_for_the_phone(client, supervisor, queue):
    client.force_login(supervisor)

    response = client.post(URL, _new_call(queue=queue.pk, phone="", callback="on"))

    assert response.status_code == 200
    assert "phone" in response.context["form"].errors
    assert not Ticket.objects.exists()


def test_phone_call_continuing_a_ticket_without_email_needs_a_channel_back(
    client, supervisor, queue
):
    ticket = new_ticket(queue, email="", phone="+79031112233", channel="phone")
    client.force_login(supervisor)
    note = {"ticket": ticket.pk, "kind": "question", "text": "Уточняет сроки."}

    refused = client.post(URL, note)
    saved = client.post(URL, {**note, "callback": "on"})

    assert refused.status_code == 200
    assert "email" in refused.context["form"].errors
    assert _done_ticket(saved) == ticket
    assert ticket.messages.filter(text="Уточняет сроки.").count() == 1
    assert ticket.callbacks.get().phone == "+79031112233"


def test_phone_call_solved_on_the_spot_needs_no_channel_back(client, supervisor, queue):
    client.force_login(supervisor)

    ticket = _done_ticket(client.post(URL, _new_call(queue=queue.pk, solved="on")))

    assert ticket.status == Ticket.Status.RESOLVED
