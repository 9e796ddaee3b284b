"""The tickets changelist: columns, masking, index-backed search, filters, query counts."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import ContactFactory, TicketFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

URL = reverse("admin:tickets_ticket_changelist")


def _numbers(response) -> set[int]:
    return {t.number for t in response.context["cl"].result_list}


def test_changelist_of_100_rows_takes_at_most_15_queries(
    client, supervisor, queue, django_assert_max_num_queries
):
    TicketFactory.create_batch(100, queue=queue)
    client.force_login(supervisor)

    with django_assert_max_num_queries(15):
        response = client.get(URL)

    assert len(response.context["cl"].result_list) == 100


def test_changelist_for_an_operator_of_100_rows_takes_at_most_15_queries(
    client, queue, django_assert_max_num_queries
):
    group = make_group("Первая линия")
    queue.operators_group = group
    queue.save()
    operator = make_operator("first", groups=[group])
    TicketFactory.create_batch(100, queue=queue)
    client.force_login(operator)

    with django_assert_max_num_queries(15):
        response = client.get(URL + "?who=unassigned&sla=ontime")

    assert len(response.context["cl"].result_list) == 100


def test_changelist_shows_reference_status_badge_and_sla_countdown(client, supervisor, queue):
    ticket = new_ticket(queue)
    client.force_login(supervisor)

    html = client.get(URL).content.decode()

    assert ticket.reference in html
    assert "ws-badge ws-status-new" in html
    assert "ws-sla ws-sla-green" in html


def test_changelist_masks_email_and_phone(client, supervisor, queue):
    new_ticket(queue, email="ivan@example.com", phone="+79001234567")
    client.force_login(supervisor)

    html = client.get(URL).content.decode()

    assert "i***@example.com" in html
    assert "ivan@example.com" not in html
    assert "+79001234567" not in html


@pytest.mark.parametrize("typed", ["sp{n}", "SP {n}", "{n}", "SP-{n:04d}", "  sp-{n}  "])
def test_number_search_accepts_what_people_type(client, supervisor, queue, typed):
    tickets = [new_ticket(queue, subject=f"Вопрос {i}") for i in range(3)]
    wanted = tickets[1]
    client.force_login(supervisor)

    response = client.get(URL, {"q": typed.format(n=wanted.number)})

    assert _numbers(response) == {wanted.number}


def test_search_by_exact_email_and_email_prefix(client, supervisor, queue):
    mine = new_ticket(queue, email="olga.petrova@example.com", phone="")
    new_ticket(queue, name="Другой", email="other@example.com", phone="")
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"q": "Olga.Petrova@example.com"})) == {mine.number}
    assert _numbers(client.get(URL, {"q": "olga.petrova@"})) == {mine.number}


def test_search_by_phone_normalises_what_is_typed(client, supervisor, queue):
    mine = new_ticket(queue, email="", phone="+79161234567")
    new_ticket(queue, name="Другой", email="x@example.com", phone="+79260000000")
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"q": "8 (916) 123-45-67"})) == {mine.number}
    assert _numbers(client.get(URL, {"q": "8916123"})) == {mine.number}


def test_search_by_inn(client, supervisor, queue):
    contact = ContactFactory(inn="7707083893")
    mine = TicketFactory(queue=queue, requester=contact)
    TicketFactory(queue=queue)
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"q": "7707083893"})) == {mine.number}


def test_search_by_part_of_the_name_or_subject(client, supervisor, queue):
    by_name = new_ticket(queue, name="Сидоров Пётр", email="p@example.com", subject="Вход")
    by_subject = new_ticket(queue, name="Иванов", email="i@example.com", subject="Сидоровка")
    new_ticket(queue, name="Кузнецов", email="k@example.com", subject="Другое")
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"q": "сидоров"})) == {by_name.number, by_subject.number}


def test_mine_and_unassigned_filters(client, supervisor, operator, queue):
    mine = TicketFactory(queue=queue, assignee=supervisor)
    theirs = TicketFactory(queue=queue, assignee=operator)
    nobody = TicketFactory(queue=queue)
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"who": "mine"})) == {mine.number}
    assert _numbers(client.get(URL, {"who": "unassigned"})) == {nobody.number}
    assert theirs.number in _numbers(client.get(URL))


def test_sla_filter_breached_due_soon_and_on_time(client, supervisor, queue):
    now = timezone.now()
    breached = TicketFactory(queue=queue, first_response_due=now - timedelta(hours=1))
    soon = TicketFactory(queue=queue, first_response_due=now + timedelta(minutes=90))
    ontime = TicketFactory(queue=queue, first_response_due=now + timedelta(hours=20))
    TicketFactory(queue=queue, first_response_due=now - timedelta(hours=1), first_response_at=now)
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"sla": "breached"})) == {breached.number}
    assert _numbers(client.get(URL, {"sla": "soon"})) == {soon.number}
    assert _numbers(client.get(URL, {"sla": "ontime"})) == {ontime.number}


def test_breached_ticket_shows_overdue_text_in_russian(client, supervisor, queue):
    TicketFactory(queue=queue, first_response_due=timezone.now() - timedelta(hours=2, minutes=5))
    client.force_login(supervisor)

    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "ws-sla-breached" in html
    assert "просрочено на 2 ч" in html


def test_status_filter(client, supervisor, queue):
    TicketFactory(queue=queue)
    pending = TicketFactory(queue=queue, status=Ticket.Status.PENDING)
    client.force_login(supervisor)

    assert _numbers(client.get(URL, {"status__exact": "pending"})) == {pending.number}


def test_changelist_links_to_register_call(client, supervisor):
    client.force_login(supervisor)

    html = client.get(URL).content.decode()

    assert reverse("admin:tickets_ticket_register_call") in html


def _ordered_numbers(response) -> list[int]:
    return [t.number for t in response.context["cl"].result_list]


def test_the_default_view_lists_open_tickets_only(client, supervisor, queue):
    open_ticket = new_ticket(queue)
    closed = TicketFactory(queue=queue, status=Ticket.Status.CLOSED)
    resolved = TicketFactory(queue=queue, status=Ticket.Status.RESOLVED)
    client.force_login(supervisor)

    assert _numbers(client.get(URL)) == {open_ticket.number}
    assert _numbers(client.get(URL, {"show": "all"})) == {
        open_ticket.number,
        closed.number,
        resolved.number,
    }
    assert _numbers(client.get(URL, {"status__exact": "closed"})) == {closed.number}


def test_the_default_order_is_the_most_urgent_first_answer_first(client, supervisor, queue):
    now = timezone.now()
    later = new_ticket(queue)
    overdue = new_ticket(queue)
    answered = new_ticket(queue)
    soon = new_ticket(queue)
    Ticket.objects.filter(pk=later.pk).update(first_response_due=now + timedelta(hours=20))
    Ticket.objects.filter(pk=overdue.pk).update(first_response_due=now - timedelta(hours=3))
    Ticket.objects.filter(pk=soon.pk).update(first_response_due=now + timedelta(hours=1))
    Ticket.objects.filter(pk=answered.pk).update(
        first_response_due=now - timedelta(hours=30), first_response_at=now
    )
    client.force_login(supervisor)

    assert _ordered_numbers(client.get(URL)) == [
        overdue.number,
        soon.number,
        later.number,
        answered.number,
    ]


def test_the_title_says_appeals_in_russian(client, supervisor, translations):
    client.force_login(supervisor)

    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "<title>Обращения |" in html
    assert "Выберите обращение" not in html


def test_queue_and_channel_share_a_column(client, supervisor, queue, translations):
    new_ticket(queue, channel="phone")
    client.force_login(supervisor)

    html = client.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert '<small class="ws-channel">телефон</small>' in html
    assert "column-channel" not in html
