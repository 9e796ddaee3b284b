"""Call-backs hold citizens' phone numbers: an operator of another queue neither sees nor
reveals them, and the citizen's «Перезвоните мне» door tells nothing about any number."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import CallbackRequest
from tickets.services import CallbackWish, callback_request

pytestmark = pytest.mark.django_db


def _main(response) -> str:
    """The page body without the layout (whose language switcher echoes the URL)."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


@pytest.fixture
def callback(queue):
    queue.operators_group = make_group("Навигатор")
    queue.save()
    ticket = new_ticket(queue)
    return callback_request(
        ticket=ticket,
        wish=CallbackWish(phone="+79123456789"),
        source=CallbackRequest.Source.WEB,
    )


@pytest.fixture
def outsider(other_queue):
    group = make_group("Бронирование")
    other_queue.operators_group = group
    other_queue.save()
    return make_operator("booking-op", groups=[group])


def test_operator_of_another_queue_does_not_see_the_callback_in_the_list(
    client, callback, outsider
):
    client.force_login(outsider)

    response = client.get("/admin/tickets/callbackrequest/")

    assert response.status_code == 200
    assert response.context["entries"] == []
    assert callback.ticket.reference not in response.content.decode()


def test_operator_of_another_queue_cannot_reveal_the_number(client, callback, outsider):
    client.force_login(outsider)

    response = client.post(reverse("admin:tickets_callbackrequest_reveal", args=[callback.pk]))

    assert response.status_code == 404
    assert "+79123456789" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="personal_data.viewed").exists()


def test_operator_of_another_queue_cannot_record_an_outcome(client, callback, outsider):
    client.force_login(outsider)

    response = client.post(
        reverse("admin:tickets_callbackrequest_outcome", args=[callback.pk]),
        {"outcome": "wrong_number"},
    )

    assert response.status_code == 404
    callback.refresh_from_db()
    assert callback.is_open and callback.attempts == 0


def test_citizen_callback_door_answers_every_miss_the_same_way(client, queue, callback):
    ticket = callback.ticket
    url = reverse("tickets:callback", args=[ticket.reference])
    unknown = reverse("tickets:callback", args=["SP-999999"])

    answers = [
        client.post(url, {"t": "guess", "phone": "+79123456789"}),
        client.post(url, {"phone": "+79000000000"}),
        client.post(unknown, {"t": ticket.token, "phone": "+79123456789"}),
    ]

    assert {a.status_code for a in answers} == {404}
    assert len({_main(a) for a in answers}) == 1
    assert CallbackRequest.objects.count() == 1


def test_citizen_callback_door_is_rate_limited_per_client(client, queue, settings):
    settings.APPEAL_RATE_LIMIT = 3
    ticket = new_ticket(queue)
    url = reverse("tickets:callback", args=[ticket.reference])

    codes = [
        client.post(url, {"t": f"guess{i}", "phone": f"+7900000000{i}"}).status_code
        for i in range(5)
    ]

    assert codes == [404, 404, 404, 429, 429]


def test_citizen_callback_page_never_echoes_the_requesters_own_phone(client, queue):
    ticket = new_ticket(queue, phone="+79001112233")

    response = client.post(
        reverse("tickets:callback", args=[ticket.reference]),
        {"t": ticket.token, "phone": "+79123456789"},
        follow=True,
    )

    html = response.content.decode()
    assert "+79123456789" in html  # the number they typed, in «Мы перезвоним вам …»
    assert "+79001112233" not in html
