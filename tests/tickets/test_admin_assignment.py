"""Least-loaded automatic assignment in a queue (setting AUTO_ASSIGN + queue.auto_assign)."""

import pytest

from tests.factories import TicketFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import TicketEvent
from tickets.services.assignment import operator_least_loaded

pytestmark = pytest.mark.django_db


@pytest.fixture
def staffed_queue(queue):
    group = make_group("Первая линия")
    queue.operators_group = group
    queue.auto_assign = True
    queue.save()
    busy = make_operator("busy", groups=[group])
    free = make_operator("free", groups=[group])
    TicketFactory.create_batch(3, queue=queue, assignee=busy)
    TicketFactory(queue=queue, assignee=free, status="closed")
    return queue, busy, free


def test_least_loaded_counts_open_tickets_only(staffed_queue):
    queue, _busy, free = staffed_queue

    assert operator_least_loaded(queue=queue) == free


def test_new_ticket_is_assigned_to_the_least_loaded_operator_when_enabled(settings, staffed_queue):
    settings.AUTO_ASSIGN = True
    queue, _busy, free = staffed_queue

    ticket = new_ticket(queue)

    assert ticket.assignee == free
    assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_no_automatic_assignment_when_the_setting_is_off(settings, staffed_queue):
    settings.AUTO_ASSIGN = False
    queue, _busy, _free = staffed_queue

    assert new_ticket(queue).assignee is None


def test_no_automatic_assignment_for_a_queue_that_does_not_ask(settings, staffed_queue):
    settings.AUTO_ASSIGN = True
    queue, _busy, _free = staffed_queue
    queue.auto_assign = False
    queue.save()

    assert new_ticket(queue).assignee is None
