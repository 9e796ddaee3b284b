"""The chats' waiting time on the supervisor dashboard (start → accepted, p50/p90)."""

from datetime import timedelta

from chat.dashboard import chat_waiting_summary
from chat.models import ChatSession
from tests.factories import TicketFactory
from tests.tickets.dashboard.conftest import at, make_filters
from tickets.models import Ticket


def chat(queue, waited_minutes: int | None) -> ChatSession:
    started = at(9, 12)
    ticket = TicketFactory(queue=queue, channel=Ticket.Channel.CHAT, created_at=started)
    return ChatSession.objects.create(
        ticket=ticket,
        queue=queue,
        started_at=started,
        accepted_at=None if waited_minutes is None else started + timedelta(minutes=waited_minutes),
    )


def test_chat_waiting_time_has_median_and_p90_of_the_accepted_chats(db, queue):
    for minutes in (1, 2, 3, 4, 10, None):
        chat(queue, minutes)

    summary = chat_waiting_summary(make_filters())

    assert (summary["started"], summary["accepted"]) == (6, 5)
    assert summary["median"] == timedelta(minutes=3)
    assert summary["p90"] == timedelta(minutes=7.6)


def test_chat_waiting_time_follows_the_dashboard_queue_filter(db, queue, other_queue):
    chat(queue, 5)
    chat(other_queue, 50)

    summary = chat_waiting_summary(make_filters(f"period=custom&from=2026-03-09&queue={queue.pk}"))

    assert (summary["started"], summary["median"]) == (1, timedelta(minutes=5))
