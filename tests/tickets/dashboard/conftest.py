"""A small hand-built data set whose dashboard figures are worked out by hand.

"Now" is 2026-03-10 15:00 Moscow time; the period is 9–10 March (custom). Every ticket's
first answer is due 24 h after creation.

ticket  created      answered     resolved     status    notes
A       08.03 10:00  09.03 09:00  09.03 10:00  closed    met (23 h), op1, CSAT 4 and an unrated one
B       08.03 12:00  09.03 14:00  -            open      breached (26 h), op2
C       08.03 20:00  -            -            open      breached, still owed: overdue now
D       09.03 09:00  09.03 09:30  09.03 11:00  resolved  met (30 min), FCR, complaint, op1, CSAT5
E       09.03 10:00  09.03 12:00  10.03 10:00  resolved  met (2 h), reopened, suggestion, op2, CSAT3
F       10.03 08:00  -            -            new       not due yet (chat)
G       09.03 16:00  -            -            new       due within 2 h, complaint, other queue, op2
H       07.03 10:00  08.03 09:00  08.03 10:00  closed    before the period, CSAT 1 on 08.03
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from tests.factories import TicketFactory, UserFactory
from tickets.dashboard.filters import DashboardFilterForm
from tickets.models import Message, SatisfactionResponse, Ticket

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=MSK)
PERIOD = "period=custom&from=2026-03-09&to=2026-03-10"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=MSK)


def make_filters(querystring: str = PERIOD, now: datetime = NOW):
    form = DashboardFilterForm(QueryDict(querystring))
    return form.filters(now=now)


@pytest.fixture
def filters(dataset):
    return make_filters()


@pytest.fixture
def dataset(db, settings, queue, other_queue):
    settings.TIME_ZONE = "Europe/Moscow"
    S, K, C = Ticket.Status, Ticket.Kind, Ticket.Channel
    op1 = UserFactory(username="op1", first_name="Ольга", last_name="Первая")
    op2 = UserFactory(username="op2", first_name="Пётр", last_name="Второй")

    def ticket(created, **kwargs):
        kwargs.setdefault("queue", queue)
        return TicketFactory(
            created_at=created, first_response_due=created + timedelta(hours=24), **kwargs
        )

    t = {}
    t["A"] = ticket(
        at(8, 10),
        first_response_at=at(9, 9),
        resolved_at=at(9, 10),
        closed_at=at(9, 10),
        status=S.CLOSED,
        assignee=op1,
    )
    t["B"] = ticket(at(8, 12), first_response_at=at(9, 14), status=S.OPEN, assignee=op2)
    t["C"] = ticket(at(8, 20), status=S.OPEN, subject="Просрочено")
    t["D"] = ticket(
        at(9, 9),
        first_response_at=at(9, 9, 30),
        resolved_at=at(9, 11),
        status=S.RESOLVED,
        first_contact_resolution=True,
        kind=K.COMPLAINT,
        assignee=op1,
        channel=C.WEB,
    )
    t["E"] = ticket(
        at(9, 10),
        first_response_at=at(9, 12),
        resolved_at=at(10, 10),
        status=S.RESOLVED,
        reopened_count=1,
        kind=K.SUGGESTION,
        assignee=op2,
        channel=C.EMAIL,
    )
    t["F"] = ticket(at(10, 8), status=S.NEW, channel=C.CHAT)
    t["G"] = ticket(
        at(9, 16),
        status=S.NEW,
        kind=K.COMPLAINT,
        queue=other_queue,
        assignee=op2,
        channel=C.PHONE,
        subject="Скоро срок",
    )
    t["H"] = ticket(
        at(7, 10),
        first_response_at=at(8, 9),
        resolved_at=at(8, 10),
        closed_at=at(8, 10),
        status=S.CLOSED,
        assignee=op1,
    )
    for key, rating, solved, when in [
        ("A", 4, True, at(9, 11)),
        ("A", None, True, at(9, 11, 30)),
        ("D", 5, True, at(9, 12)),
        ("E", 3, False, at(10, 9)),
        ("H", 1, True, at(8, 11)),
    ]:
        SatisfactionResponse.objects.create(
            ticket=t[key], rating=rating, solved=solved, created_at=when
        )
    for key, author, when, internal in [
        ("D", op1, at(9, 9, 30), False),
        ("A", op1, at(10, 9), True),  # an internal note is not an answer
        ("E", op2, at(10, 9), False),
        ("B", op2, at(10, 10), False),
        ("B", op2, at(10, 11), False),
    ]:
        Message.objects.create(
            ticket=t[key],
            author_kind=Message.Author.OPERATOR,
            author=author,
            channel=t[key].channel,
            text="Ответ",
            is_internal=internal,
            created_at=when,
        )
    return {"tickets": t, "op1": op1, "op2": op2, "queue": queue, "other_queue": other_queue}
