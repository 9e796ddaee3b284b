"""The waiting line as every process re-reads it while chats arrive (chat/selectors.py)."""

import pytest

from chat import selectors, services
from chat.models import ChatSession
from tests.chat.conftest import online, start


@pytest.fixture(autouse=True)
def _operator_online_picking_by_hand(settings, chat_operator):
    """Chats stay in the waiting line: someone is online, nobody is routed a chat."""
    settings.CHAT_ROUTING = "manual"
    online(chat_operator)


def test_waiting_line_lists_each_chat_as_its_full_summary(queue):
    for i in range(3):
        start(queue, full_name=f"Гражданин {i}", email=f"c{i}@example.com")
    full = selectors.chats_waiting().select_related("ticket__requester")

    line = selectors.waiting_line()

    assert line["waiting"] == [selectors.session_summary(s) for s in full]
    assert line["order"] == [s.pk for s in full]
    assert line["count"] == 3


def test_waiting_line_costs_the_same_queries_for_any_number_of_chats(
    queue, django_assert_num_queries
):
    for i in range(12):
        start(queue, full_name=f"Гражданин {i}", email=f"c{i}@example.com")

    # order, seconds per place (capacity, recent chats), summaries; a deferred column
    # read per row would add 12.
    with django_assert_num_queries(4):
        line = selectors.waiting_line()

    assert line["count"] == 12
    assert all(s["status"] == ChatSession.Status.WAITING for s in line["waiting"])


def test_waiting_line_lists_at_most_listed_chats_but_orders_all(queue):
    for i in range(4):
        start(queue, full_name=f"Гражданин {i}", email=f"c{i}@example.com")

    line = selectors.waiting_line(listed=2)

    assert len(line["waiting"]) == 2
    assert len(line["order"]) == 4
    assert line["count"] == 4


def test_waiting_line_summarises_only_chats_the_last_read_did_not_list(
    queue, django_assert_num_queries
):
    for i in range(3):
        start(queue, full_name=f"Гражданин {i}", email=f"c{i}@example.com")
    known = {s["id"]: s for s in selectors.waiting_line()["waiting"]}
    start(queue, full_name="Новенький", email="new@example.com")

    # order, seconds per place (two), and the summary of the one new chat
    with django_assert_num_queries(4):
        line = selectors.waiting_line(known=known)
    with django_assert_num_queries(3):
        again = selectors.waiting_line(known={s["id"]: s for s in line["waiting"]})

    full = selectors.chats_waiting().select_related("ticket__requester")
    assert line["waiting"] == again["waiting"] == [selectors.session_summary(s) for s in full]


def test_waiting_line_drops_a_known_chat_that_stopped_waiting(queue, chat_operator):
    first, second = start(queue), start(queue, email="ivan@example.com")
    known = {s["id"]: s for s in selectors.waiting_line()["waiting"]}
    services.chat_accept(session_id=first.pk, operator=chat_operator)

    line = selectors.waiting_line(known=known)

    assert [s["id"] for s in line["waiting"]] == [second.pk]
    assert line["order"] == [second.pk]
