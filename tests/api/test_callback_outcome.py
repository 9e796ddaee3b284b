"""Call-back outcomes over the API: the admin's service (`callback_record_outcome`), the
staff access layer and the token's queues, scope `calls:write`, and retries that never
count an attempt twice."""

import pytest
from django.contrib.auth.models import Permission

from tests.factories import TicketFactory, UserFactory
from tickets.models import CallbackRequest, Message, Ticket, TicketEvent
from tickets.services import CallbackWish, callback_request

pytestmark = pytest.mark.django_db

CHANGE_CALLBACKS = "change_callbackrequest"


@pytest.fixture
def caller(api_user):
    """The token's user may change call-backs, as operators of the call-back list do."""
    api_user.user_permissions.add(Permission.objects.get(codename=CHANGE_CALLBACKS))
    return api_user


def _callback(queue, phone="+79123456789") -> CallbackRequest:
    return callback_request(
        ticket=TicketFactory(queue=queue, status=Ticket.Status.OPEN),
        wish=CallbackWish(phone=phone),
        source=CallbackRequest.Source.WEB,
    )


def _url(callback) -> str:
    return f"/api/v1/callbacks/{callback.pk if hasattr(callback, 'pk') else callback}/outcome/"


def test_reached_solved_closes_the_callback_and_resolves_the_ticket_as_first_contact(
    api, caller, queue
):
    callback = _callback(queue)

    response = api.post(
        _url(callback), {"attempt": 1, "outcome": "reached_solved", "note": "Объяснил"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["outcome"] == "reached_solved" and body["attempts"] == 1
    assert body["closed_at"] is not None
    ticket = Ticket.objects.get(pk=callback.ticket_id)
    assert ticket.status == Ticket.Status.RESOLVED and ticket.first_contact_resolution
    note = Message.objects.get(ticket=ticket, is_internal=True)
    assert "Объяснил" in note.text and note.author == caller


def test_no_answer_counts_a_failed_attempt_and_keeps_the_callback_open(api, caller, queue):
    callback = _callback(queue)

    body = api.post(_url(callback), {"attempt": 1, "outcome": "no_answer"}).json()

    assert body["attempts"] == 1 and body["outcome"] == "no_answer"
    assert body["closed_at"] is None
    assert CallbackRequest.objects.get(pk=callback.pk).last_attempt_by == caller


def test_a_retried_outcome_is_recorded_once_and_says_it_was_replayed(api, caller, queue):
    callback = _callback(queue)
    first = api.post(_url(callback), {"attempt": 1, "outcome": "busy", "note": "Занято"})

    again = api.post(_url(callback), {"attempt": 1, "outcome": "busy", "note": "Занято"})

    assert first.status_code == again.status_code == 200
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert again.json()["attempts"] == 1
    assert callback.ticket.events.filter(kind=TicketEvent.Kind.CALLBACK).count() == 2  # asked, 1
    assert Message.objects.filter(ticket=callback.ticket, is_internal=True).count() == 1


def test_an_attempt_number_that_is_not_the_next_one_is_a_conflict(api, caller, queue):
    callback = _callback(queue)

    skipped = api.post(_url(callback), {"attempt": 3, "outcome": "busy"})
    api.post(_url(callback), {"attempt": 1, "outcome": "busy"})
    other_outcome = api.post(_url(callback), {"attempt": 1, "outcome": "reached"})

    assert skipped.status_code == other_outcome.status_code == 409
    assert skipped.json()["error"]["code"] == "attempt_conflict"
    assert CallbackRequest.objects.get(pk=callback.pk).attempts == 1


def test_replaying_someone_elses_attempt_is_a_conflict(api_as, caller, queue, nav_group):
    callback = _callback(queue)
    colleague = UserFactory(username="colleague", permissions=("tickets.change_ticket",))
    colleague.groups.add(nav_group)
    colleague.user_permissions.add(Permission.objects.get(codename=CHANGE_CALLBACKS))
    api_as().post(_url(callback), {"attempt": 1, "outcome": "busy"})

    response = api_as(user=colleague).post(_url(callback), {"attempt": 1, "outcome": "busy"})

    assert response.status_code == 409


def test_a_closed_callback_takes_no_further_outcome(api, caller, queue):
    callback = _callback(queue)
    api.post(_url(callback), {"attempt": 1, "outcome": "wrong_number"})

    response = api.post(_url(callback), {"attempt": 2, "outcome": "reached"})

    assert response.status_code == 409 and response.json()["error"]["code"] == "closed"


def test_a_token_limited_to_one_queue_gets_404_for_another_queues_callback(
    api_as, caller, queue, booking_queue
):
    housing = _callback(booking_queue)

    response = api_as(queues=[queue]).post(_url(housing), {"attempt": 1, "outcome": "busy"})

    assert response.status_code == 404
    assert CallbackRequest.objects.get(pk=housing.pk).attempts == 0


def test_unseen_and_unknown_callbacks_answer_the_same_404(api, caller, queue):
    hidden = _callback(TicketFactory().queue)  # a queue the caller does not work

    unseen = api.post(_url(hidden), {"attempt": 1, "outcome": "busy"})
    unknown = api.post(_url(hidden.pk + 1000), {"attempt": 1, "outcome": "busy"})

    assert unseen.status_code == unknown.status_code == 404
    assert unseen.json() == unknown.json()
    assert CallbackRequest.objects.get(pk=hidden.pk).attempts == 0


def test_recording_needs_the_calls_write_scope_and_the_change_permission(
    api_as, api, api_user, queue
):
    callback = _callback(queue)

    no_scope = api_as(("tickets:read", "tickets:write")).post(
        _url(callback), {"attempt": 1, "outcome": "busy"}
    )
    no_permission = api.post(_url(callback), {"attempt": 1, "outcome": "busy"})

    assert no_scope.status_code == 403 and no_scope.json()["error"]["code"] == "scope_missing"
    assert no_permission.status_code == 403
    assert CallbackRequest.objects.get(pk=callback.pk).attempts == 0


@pytest.mark.parametrize(
    "body",
    [
        {"attempt": 1, "outcome": "hung_up"},
        {"attempt": "1", "outcome": "busy"},
        {"attempt": 0, "outcome": "busy"},
        {"outcome": "busy"},
        {"attempt": 1, "outcome": "busy", "note": 5},
    ],
)
def test_bad_outcome_bodies_are_400(api, caller, queue, body):
    callback = _callback(queue)

    response = api.post(_url(callback), body)

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"


def test_callback_retrieve_shows_the_attempts_to_continue_from(api, caller, queue, booking_queue):
    callback = _callback(queue)
    api.post(_url(callback), {"attempt": 1, "outcome": "no_answer"})

    body = api.get(f"/api/v1/callbacks/{callback.pk}/").json()

    assert body["attempts"] == 1 and body["phone"] == "+7 *** ***-67-89"
