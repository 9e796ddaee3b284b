"""`manage.py seed_demo`: realistic demo data, fast bulk load, readable through the ORM."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tickets.models import (
    CannedResponse,
    Contact,
    Message,
    Queue,
    SatisfactionResponse,
    Ticket,
    TicketEvent,
    TicketLink,
)
from tickets.selectors_admin import canned_responses_for
from tickets.services import ticket_create
from tickets.validators import inn_is_valid

pytestmark = pytest.mark.django_db


def _seed(tickets=400, **options) -> str:
    out = StringIO()
    call_command("seed_demo", tickets=tickets, seed=7, stdout=out, **options)
    return out.getvalue()


def test_seed_creates_queues_groups_and_demo_users_with_the_printed_password():
    output = _seed(tickets=20)

    assert set(Queue.objects.values_list("name", flat=True)) >= {
        "Сайт Навигатора",
        "Система бронирования",
        "Единый портал",
    }
    assert all(q.email_address for q in Queue.objects.all())
    User = get_user_model()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("demo12345")
    assert "demo12345" in output
    operator = User.objects.get(username="operator1")
    assert operator.is_staff
    assert operator.has_perm("tickets.change_ticket")
    assert not operator.has_perm("tickets.supervise")
    assert User.objects.get(username="supervisor").has_perm("tickets.supervise")
    assert User.objects.get(username="specialist").groups.get().name == "Вторая линия"


def test_seed_creates_tickets_in_every_status_channel_and_type():
    _seed()

    assert Ticket.objects.count() == 400
    assert set(Ticket.objects.values_list("status", flat=True)) == set(Ticket.Status.values)
    assert set(Ticket.objects.values_list("channel", flat=True)) == set(Ticket.Channel.values)
    assert set(Ticket.objects.values_list("kind", flat=True)) == set(Ticket.Kind.values)


def test_seeded_tickets_have_messages_history_answers_ratings_and_links():
    _seed()

    every = Ticket.objects.count()
    assert Message.objects.filter(author_kind="requester").values("ticket").distinct().count() == (
        every
    )
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.CREATED).count() == every
    answered = Ticket.objects.filter(first_response_at__isnull=False)
    assert answered.exists()
    late = [t for t in answered if t.first_response_at > t.first_response_due]
    assert 0 < len(late) < answered.count() / 4  # most within 24 hours, some breached
    assert SatisfactionResponse.objects.exists()
    assert Message.objects.filter(is_internal=True).exists()
    link = TicketLink.objects.first()
    assert TicketLink.objects.filter(
        source=link.target, target=link.source, kind=TicketLink.Kind(link.kind).inverse
    ).exists()


def test_seeded_rows_read_back_through_the_orm_consistently():
    _seed(tickets=100)

    for ticket in Ticket.objects.select_related("queue", "requester"):
        assert ticket.reference.startswith("SP-")
        assert ticket.created_at <= ticket.last_activity_at
        if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            assert ticket.resolved_at is not None
        if ticket.status == Ticket.Status.CLOSED:
            assert ticket.closed_at is not None
        first = ticket.messages.order_by("created_at").first()
        assert first.created_at == ticket.created_at


def test_seeded_contacts_have_valid_inns():
    _seed(tickets=300)

    inns = list(Contact.objects.exclude(inn="").values_list("inn", flat=True))
    assert inns
    assert all(inn_is_valid(inn) for inn in inns)


def test_numbers_are_unique_and_later_tickets_continue_after_them(queue, contact):
    _seed(tickets=200)
    numbers = list(Ticket.objects.values_list("number", flat=True))

    later = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Новое", text="Т"
    )

    assert len(set(numbers)) == len(numbers)
    assert later.number > max(numbers)


def test_numbers_grow_with_creation_time():
    _seed(tickets=200)

    by_number = list(Ticket.objects.order_by("number").values_list("created_at", flat=True))
    assert by_number == sorted(by_number)


def test_if_empty_does_nothing_when_tickets_exist():
    _seed(tickets=10)

    output = _seed(tickets=10, if_empty=True)

    assert Ticket.objects.count() == 10
    assert "nothing to do" in output


def test_seed_is_repeatable_and_reuses_reference_data():
    _seed(tickets=10)
    _seed(tickets=10)

    assert Ticket.objects.count() == 20
    assert Queue.objects.filter(slug="navigator").count() == 1
    assert get_user_model().objects.filter(username="operator1").count() == 1


def test_seed_prints_a_progress_bar_with_rows_per_second():
    output = _seed(tickets=50)

    assert "rows/s" in output
    assert "100.0%" in output


def test_seed_gives_every_queue_canned_answers_with_filled_placeholders_once():
    _seed(tickets=20)
    _seed(tickets=0)  # a second run adds no copies

    operator = get_user_model().objects.get(username="operator1")
    for queue in Queue.objects.all():
        ticket = Ticket.objects.filter(queue=queue).first()
        answers = canned_responses_for(ticket, operator)
        assert any(c.queue_id == queue.pk for c, _text in answers), queue.slug
        assert all("{number}" not in text for _c, text in answers)
        assert any(ticket.reference in text for _c, text in answers)
    titles = list(CannedResponse.objects.values_list("title", "queue_id"))
    assert len(titles) == len(set(titles))
