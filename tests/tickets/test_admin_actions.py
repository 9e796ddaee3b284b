"""Bulk actions on the changelist go through the services and write history."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from tests.factories import TicketFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import Ticket, TicketEvent, TicketLink

pytestmark = pytest.mark.django_db

URL = reverse("admin:tickets_ticket_changelist")


def _post(client, action, tickets, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tickets], **extra}
    # From the "all tickets" view: the default one lists open tickets only.
    return client.post(f"{URL}?show=all", data)


def test_assign_to_me_assigns_and_writes_history(client, supervisor, queue):
    tickets = [new_ticket(queue), new_ticket(queue)]
    client.force_login(supervisor)

    _post(client, "action_assign_to_me", tickets)

    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee == supervisor
        assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGNED).exists()


def test_assign_to_shows_a_form_first_then_assigns(client, supervisor, queue):
    queue.operators_group = make_group("Навигатор")
    queue.save(update_fields=["operators_group"])
    operator = make_operator("nav-op", groups=[queue.operators_group])
    ticket = new_ticket(queue)
    client.force_login(supervisor)

    page = _post(client, "action_assign_to", [ticket])
    assert page.status_code == 200
    assert 'name="assignee"' in page.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee is None

    _post(client, "action_assign_to", [ticket], apply="1", assignee=operator.pk)

    ticket.refresh_from_db()
    assert ticket.assignee == operator


def test_change_status_offers_only_allowed_transitions(client, supervisor, queue):
    resolved = TicketFactory(queue=queue, status=Ticket.Status.RESOLVED)
    client.force_login(supervisor)

    page = _post(client, "action_change_status", [resolved])

    choices = {value for value, _label in page.context["form"].fields["status"].choices}
    assert choices == {"open", "closed"}


def test_change_status_applies_through_the_workflow(client, supervisor, queue):
    ticket = new_ticket(queue)
    client.force_login(supervisor)

    _post(client, "action_change_status", [ticket], apply="1", status="pending")

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.PENDING
    assert ticket.events.filter(kind=TicketEvent.Kind.STATUS, new_value="pending").exists()


def test_escalate_action_hands_web_tickets_to_line_two_and_refuses_phone_without_email(
    client, supervisor, queue
):
    web = new_ticket(queue)
    phone = new_ticket(queue, name="Звонящий", email="", phone="+79005550000", channel="phone")
    client.force_login(supervisor)

    response = _post(client, "action_escalate", [web, phone], apply="1", note="Нужен отдел")

    web.refresh_from_db()
    phone.refresh_from_db()
    assert web.line == Ticket.Line.SECOND
    assert phone.line == Ticket.Line.FIRST
    texts = [str(m) for m in response.wsgi_request._messages]
    assert any(phone.reference in text for text in texts)


def test_merge_action_merges_selected_into_the_chosen_ticket(client, supervisor, queue):
    target, source = new_ticket(queue), new_ticket(queue)
    client.force_login(supervisor)

    _post(client, "action_merge", [target, source], apply="1", target=str(target.pk))

    source.refresh_from_db()
    assert source.merged_into == target
    assert source.status == Ticket.Status.CLOSED
    assert TicketLink.objects.filter(source=target, target=source, kind="merged_from").exists()
    assert target.events.filter(kind=TicketEvent.Kind.MERGED).exists()


def test_delete_action_is_not_offered(client, supervisor):
    client.force_login(supervisor)

    response = client.get(URL)

    assert "delete_selected" not in response.content.decode()


@pytest.mark.parametrize(
    ("count", "text"),
    [(1, "1 обращение назначено вам."), (2, "2 обращения назначены вам."), (5, "5 обращений")],
)
def test_action_messages_use_russian_plurals(client, supervisor, queue, translations, count, text):
    tickets = [new_ticket(queue) for _ in range(count)]
    client.force_login(supervisor)

    response = client.post(
        f"{URL}?show=all",
        {"action": "action_assign_to_me", helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tickets]},
        HTTP_ACCEPT_LANGUAGE="ru",
        follow=True,
    )

    assert text in response.content.decode()
