"""Call-backs and the call log over the API: the staff access layer, the token's queues
and scopes, numbers masked without the personal-data permission."""

import pytest
from django.utils import timezone

from telephony.models import CallRecord
from tests.factories import TicketFactory, UserFactory
from tickets.services import CallbackWish, callback_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def callbacks(queue, booking_queue):
    nav = callback_request(
        ticket=TicketFactory(queue=queue), wish=CallbackWish(phone="+79123456789"), source="web"
    )
    housing = callback_request(
        ticket=TicketFactory(queue=booking_queue),
        wish=CallbackWish(phone="+79997776655"),
        source="web",
    )
    hidden = callback_request(
        ticket=TicketFactory(queue=TicketFactory().queue),
        wish=CallbackWish(phone="+79001112233"),
        source="web",
    )
    return nav, housing, hidden


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_callbacks_list_only_the_callers_queues_with_masked_numbers(api, callbacks):
    nav, housing, _hidden = callbacks

    response = api.get("/api/v1/callbacks/")

    assert _ids(response) == {nav.pk, housing.pk}
    row = next(r for r in response.json()["results"] if r["id"] == nav.pk)
    assert row["phone"] == "+7 *** ***-67-89" and row["ticket"] == nav.ticket.reference


def test_a_token_limited_to_a_queue_sees_only_its_callbacks(api_as, callbacks, queue):
    nav, *_ = callbacks

    assert _ids(api_as(queues=[queue]).get("/api/v1/callbacks/")) == {nav.pk}


def test_callbacks_filter_open(api, callbacks):
    nav, housing, _hidden = callbacks
    nav.closed_at = timezone.now()
    nav.save(update_fields=["closed_at"])

    assert _ids(api.get("/api/v1/callbacks/", {"open": "true"})) == {housing.pk}
    assert api.get("/api/v1/callbacks/", {"open": "maybe"}).status_code == 400


def test_calls_need_their_scope(api_as):
    response = api_as(("tickets:read",)).get("/api/v1/calls/")

    assert response.status_code == 403


def test_calls_list_linked_and_answered_calls_only(api, api_user, callbacks):
    nav, _housing, hidden = callbacks
    now = timezone.now()
    linked = CallRecord.objects.create(
        call_id="a", direction="in", from_number="+79123456789", ring_at=now, ticket=nav.ticket
    )
    answered = CallRecord.objects.create(
        call_id="b", direction="in", from_number="+79005550000", ring_at=now, operator=api_user
    )
    CallRecord.objects.create(
        call_id="c", direction="in", from_number="+79001112233", ring_at=now, ticket=hidden.ticket
    )
    CallRecord.objects.create(call_id="d", direction="in", from_number="+79004443322", ring_at=now)

    response = api.get("/api/v1/calls/")

    assert _ids(response) == {linked.pk, answered.pk}
    row = next(r for r in response.json()["results"] if r["id"] == linked.pk)
    assert row["from_number"] == "+7 *** ***-67-89" and row["ticket"] == nav.ticket.reference


def test_calls_show_numbers_in_full_with_the_personal_data_permission(api_as, callbacks):
    nav, *_ = callbacks
    CallRecord.objects.create(
        call_id="a", direction="in", from_number="+79123456789", ticket=nav.ticket
    )
    chief = UserFactory(username="chief", is_superuser=True)

    rows = api_as(user=chief).get("/api/v1/calls/").json()["results"]

    assert rows[0]["from_number"] == "+79123456789"


def test_a_queue_limited_token_sees_no_unlinked_calls(api_as, api_user, queue):
    CallRecord.objects.create(call_id="b", direction="in", from_number="+7900", operator=api_user)

    assert _ids(api_as(queues=[queue]).get("/api/v1/calls/")) == set()
