"""Reading tickets: the staff access layer with the token's queues, filters, cursor
pagination, ETags, internal notes and personal data."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import ContactFactory, MessageFactory, TicketFactory
from tickets import services
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


def _numbers(response) -> list[str]:
    return [row["number"] for row in response.json()["results"]]


def test_list_shows_only_tickets_of_the_users_queues(api, queue, other_queue):
    mine = TicketFactory(queue=queue)
    TicketFactory(queue=other_queue)  # no group of api_user works it
    assert _numbers(api.get(URL)) == [mine.reference]


def test_token_limited_to_a_queue_lists_only_that_queue(api_as, queue, booking_queue):
    nav = TicketFactory(queue=queue)
    TicketFactory(queue=booking_queue)
    assert _numbers(api_as(queues=[queue]).get(URL)) == [nav.reference]


def test_token_limited_to_queue_a_gets_404_for_a_ticket_of_queue_b(api_as, queue, booking_queue):
    other = TicketFactory(queue=booking_queue)
    response = api_as(queues=[queue]).get(f"{URL}{other.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_ticket_of_a_queue_the_user_does_not_work_is_404_like_a_missing_one(api, other_queue):
    hidden = TicketFactory(queue=other_queue)
    assert api.get(f"{URL}{hidden.pk}/").json() == api.get(f"{URL}999999/").json()


def test_list_masks_requesters(api, queue, contact):
    TicketFactory(queue=queue, requester=contact)
    row = api.get(URL).json()["results"][0]
    assert row["requester"]["email"] == "m***@example.com"
    assert row["requester"]["masked"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "open"}, ["open"]),
        ({"status": "new,open"}, ["new", "open"]),
        ({"channel": "phone"}, ["phone"]),
        ({"kind": "complaint"}, ["complaint"]),
    ],
)
def test_list_filters_by_choice_fields(api, queue, params, expected):
    TicketFactory(queue=queue, status="open", channel="phone", kind="complaint")
    TicketFactory(queue=queue, status="new", channel="web", kind="question")
    rows = api.get(URL, params).json()["results"]
    field = next(iter(params))
    assert sorted(row[field] for row in rows) == sorted(expected)


def test_list_filters_by_queue_slug_and_assignee_me(api, api_user, queue, booking_queue):
    mine = TicketFactory(queue=queue, assignee=api_user)
    TicketFactory(queue=queue)
    TicketFactory(queue=booking_queue, assignee=api_user)
    assert _numbers(api.get(URL, {"queue": "navigator", "assignee": "me"})) == [mine.reference]


def test_list_filters_by_created_range(api, queue):
    old = TicketFactory(queue=queue, created_at=timezone.now() - timezone.timedelta(days=10))
    TicketFactory(queue=queue)
    cutoff = (timezone.now() - timezone.timedelta(days=5)).isoformat()
    assert _numbers(api.get(URL, {"created_before": cutoff})) == [old.reference]


def test_list_filters_by_sla_breached(api, queue):
    late = TicketFactory(
        queue=queue, first_response_due=timezone.now() - timezone.timedelta(hours=1)
    )
    TicketFactory(queue=queue)
    assert _numbers(api.get(URL, {"sla": "breached"})) == [late.reference]


def test_q_searches_like_the_admin_by_number_and_phone(api, queue):
    contact = ContactFactory(phone="+79001112233")
    by_phone = TicketFactory(queue=queue, requester=contact)
    other = TicketFactory(queue=queue)
    assert _numbers(api.get(URL, {"q": "8 (900) 111-22-33"})) == [by_phone.reference]
    assert _numbers(api.get(URL, {"q": other.reference.lower()})) == [other.reference]


def test_bad_filter_value_is_400_with_the_field_named(api):
    response = api.get(URL, {"status": "nonsense", "created_after": "yesterday"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) >= {"created_after"}
    assert api.get(URL, {"status": "nonsense"}).status_code == 400


def test_cursor_walk_has_no_gaps_or_repeats_while_tickets_are_created(api, queue):
    created = [TicketFactory(queue=queue).pk for _ in range(250)]
    seen: list[int] = []
    url = f"{URL}?limit=40"
    pages = 0
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        pages += 1
        # New appeals keep arriving during the walk: newest first, they never reach a
        # page after the first.
        TicketFactory(queue=queue)
        url = body["next"]
    assert len(seen) == len(set(seen))
    assert sorted(seen) == sorted(created)
    assert pages == 7


def test_estimate_is_offered_only_on_request(api, queue):
    TicketFactory(queue=queue)
    assert "estimated_total" not in api.get(URL).json()
    body = api.get(URL, {"estimate": "1"}).json()
    assert "estimated_total" in body  # null on SQLite, the planner's figure on PostgreSQL


def test_limit_is_capped(api, queue):
    for _ in range(3):
        TicketFactory(queue=queue)
    assert len(api.get(URL, {"limit": "100000"}).json()["results"]) == 3


def test_retrieve_has_messages_and_an_etag_answered_with_304(api, queue):
    ticket = TicketFactory(queue=queue)
    MessageFactory(ticket=ticket)
    first = api.get(f"{URL}{ticket.pk}/")
    assert first.status_code == 200
    assert len(first.json()["messages"]) == 1
    again = api.get(f"{URL}{ticket.pk}/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]


def test_etag_changes_after_a_reply(api, api_user, queue):
    ticket = TicketFactory(queue=queue)
    etag = api.get(f"{URL}{ticket.pk}/")["ETag"]
    services.message_add_reply(ticket=ticket, author=api_user, text="Ответ", is_internal=True)
    assert api.get(f"{URL}{ticket.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_etag_changes_after_a_link(api, api_user, queue):
    ticket, other = TicketFactory(queue=queue), TicketFactory(queue=queue)
    etag = api.get(f"{URL}{ticket.pk}/")["ETag"]
    services.ticket_link(source=ticket, target=other, kind="related", actor=api_user)
    assert api.get(f"{URL}{ticket.pk}/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_internal_notes_need_the_internal_scope(api_as, api_user, queue):
    ticket = TicketFactory(queue=queue)
    MessageFactory(ticket=ticket)
    Message.objects.create(
        ticket=ticket,
        author_kind="operator",
        author=api_user,
        is_internal=True,
        channel="web",
        text="Заметка для своих",
    )
    without = api_as(["tickets:read"]).get(f"{URL}{ticket.pk}/").json()
    with_scope = api_as(["tickets:read", "tickets:internal"]).get(f"{URL}{ticket.pk}/").json()
    assert [m["is_internal"] for m in without["messages"]] == [False]
    assert [m["is_internal"] for m in with_scope["messages"]] == [False, True]


def test_etag_differs_between_callers_who_see_different_things(api_as, queue):
    ticket = TicketFactory(queue=queue)
    plain = api_as(["tickets:read"]).get(f"{URL}{ticket.pk}/")["ETag"]
    internal = api_as(["tickets:read", "tickets:internal"]).get(f"{URL}{ticket.pk}/")["ETag"]
    assert plain != internal


def test_requester_is_masked_unless_asked_for_and_allowed(api, queue, contact):
    ticket = TicketFactory(queue=queue, requester=contact)
    # api_user lacks tickets.view_personal_data: masked even when asked.
    body = api.get(f"{URL}{ticket.pk}/", {"personal_data": "1"}).json()
    assert body["requester"]["masked"] is True
    assert "maria@example.com" not in str(body)


def test_personal_data_shown_in_full_is_audited(api_as, queue, contact, api_user):
    from django.contrib.auth.models import Permission

    api_user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    ticket = TicketFactory(queue=queue, requester=contact)
    client = api_as(["tickets:read", "contacts:read"])
    assert client.get(f"{URL}{ticket.pk}/").json()["requester"]["masked"] is True
    assert not AuditEvent.objects.filter(action="personal_data.viewed").exists()
    body = client.get(f"{URL}{ticket.pk}/", {"personal_data": "1"}).json()
    assert body["requester"]["email"] == "maria@example.com"
    event = AuditEvent.objects.get(action="personal_data.viewed")
    assert event.actor_label == api_user.username
    assert event.object_label == ticket.reference


def test_list_query_count_does_not_grow_with_the_page(
    api, queue, api_user, django_assert_max_num_queries
):
    for _ in range(30):
        TicketFactory(queue=queue, assignee=api_user)
    api.get(URL)  # the token's first use writes last_used_at
    # Token, its queues, the user's permissions (2) and groups, the page.
    with django_assert_max_num_queries(6):
        assert len(api.get(URL).json()["results"]) == 30


def test_retrieve_query_count_is_fixed(api, queue, api_user, django_assert_max_num_queries):
    ticket = TicketFactory(queue=queue)
    for _ in range(10):
        MessageFactory(ticket=ticket)
    api.get(f"{URL}{ticket.pk}/")
    # As the list, then the ticket, its messages, their files, its links.
    with django_assert_max_num_queries(9):
        assert len(api.get(f"{URL}{ticket.pk}/").json()["messages"]) == 10


def test_supervisor_session_sees_every_queue(client, supervisor, queue, other_queue):
    TicketFactory(queue=queue)
    TicketFactory(queue=other_queue)
    client.force_login(supervisor)
    assert len(client.get(URL).json()["results"]) == 2


def test_status_of_ticket_list_rows_uses_ticket_choices(api, queue):
    TicketFactory(queue=queue)
    row = api.get(URL).json()["results"][0]
    assert row["status"] in Ticket.Status.values
    assert row["sla"]["state"] in {"green", "amber", "red", "breached", "none"}


@pytest.mark.postgres
def test_estimate_is_the_planners_figure_on_postgresql(client, supervisor, queue):
    for _ in range(3):
        TicketFactory(queue=queue)
    client.force_login(supervisor)
    body = client.get(URL, {"estimate": "1", "status": "new"}).json()
    assert isinstance(body["estimated_total"], int)
