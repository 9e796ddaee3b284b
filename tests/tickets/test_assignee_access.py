"""A ticket is only handed to staff who could see it anyway: assigning must not open
another queue (and its requesters' personal data) to the assignee."""

import pytest
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.access import tickets_for_staff
from tickets.services import ticket_assign

pytestmark = pytest.mark.django_db


@pytest.fixture
def worked_queue(queue):
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    return queue


@pytest.fixture
def outsider(other_queue):
    """Works another queue only."""
    other_queue.operators_group = make_group("Бронирование")
    other_queue.save(update_fields=["operators_group"])
    return make_operator("outsider", groups=[other_queue.operators_group])


def test_service_refuses_an_assignee_who_does_not_work_the_queue(worked_queue, outsider):
    ticket = new_ticket(worked_queue)

    with pytest.raises(ValidationError) as refused:
        ticket_assign(ticket=ticket, assignee=outsider)

    assert "assignee" in refused.value.message_dict
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert not tickets_for_staff(outsider).filter(pk=ticket.pk).exists()


def test_member_of_the_ticket_group_may_be_assigned(worked_queue, outsider, other_queue):
    ticket = new_ticket(worked_queue)
    ticket.assigned_group = other_queue.operators_group
    ticket.save(update_fields=["assigned_group"])

    ticket_assign(ticket=ticket, assignee=outsider)

    ticket.refresh_from_db()
    assert ticket.assignee == outsider


def test_admin_properties_refuse_an_assignee_outside_the_queue(
    client, supervisor, worked_queue, outsider
):
    ticket = new_ticket(worked_queue)
    client.force_login(supervisor)

    page = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {
            "_action": "properties",
            "status": ticket.status,
            "assignee": outsider.pk,
            "queue": worked_queue.pk,
            "priority": ticket.priority,
            "kind": ticket.kind,
        },
    )

    assert page.status_code == 200
    assert "assignee" in page.context["properties_form"].errors
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_admin_bulk_assign_refuses_an_assignee_outside_the_queue(
    client, supervisor, worked_queue, outsider
):
    ticket = new_ticket(worked_queue)
    client.force_login(supervisor)

    client.post(
        reverse("admin:tickets_ticket_changelist"),
        {
            "action": "action_assign_to",
            helpers.ACTION_CHECKBOX_NAME: [ticket.pk],
            "apply": "1",
            "assignee": outsider.pk,
        },
    )

    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_an_operators_visible_tickets_filter_the_ticket_table_without_joining_queues(
    worked_queue, other_queue
):
    # Joined, PostgreSQL estimated the visibility OR from the queue table's statistics;
    # stale ones (a queue given its group since the last ANALYZE) made it sort the whole
    # ticket table: 4-7 s for an operator's first page at 1M tickets (bench/api.py).
    operator = make_operator("joiner", groups=[worked_queue.operators_group])
    mine = new_ticket(worked_queue)
    new_ticket(other_queue)

    visible = tickets_for_staff(operator)

    assert list(visible) == [mine]
    sql = str(visible.query).upper()
    assert "JOIN" not in sql and "TICKETS_QUEUE" in sql  # the queues as a subquery
