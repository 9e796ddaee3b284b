"""No raw internals for operators (issue 20, item 9): history entries in words with
people's names, and an admin home of tiles with counts instead of the model list."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import Ticket
from tickets.services import ticket_assign
from tickets.services.calls import ticket_mark_first_contact_resolution

pytestmark = pytest.mark.django_db


def _history(client, ticket) -> str:
    html = client.get(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    history = html[html.index('class="ws-history"') :]
    return history[: history.index("</table>")]


def test_history_names_the_assignee_and_the_actor_not_their_logins(
    client, supervisor, queue, translations
):
    anna = UserFactory(
        username="operator1",
        first_name="Анна",
        last_name="Соколова",
        is_staff=True,
        is_superuser=True,
    )
    boss = UserFactory(username="boss", first_name="Елена", last_name="Орлова", is_staff=True)
    ticket = new_ticket(queue)
    ticket_assign(ticket=ticket, assignee=anna, actor=boss)
    client.force_login(supervisor)

    history = _history(client, ticket)

    assert "Исполнитель:" in history
    assert "Анна Соколова" in history
    assert "Елена Орлова" in history
    assert "operator1" not in history
    assert "assignee" not in history


def test_history_says_yes_for_a_call_solved_on_the_spot(client, supervisor, queue, translations):
    ticket = new_ticket(queue, channel="phone")
    ticket_mark_first_contact_resolution(ticket=ticket, actor=supervisor)
    client.force_login(supervisor)

    history = _history(client, ticket)

    assert "first_contact_resolution" not in history
    assert "нет → да" in history


def _home(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()


def test_an_operators_home_counts_mine_unassigned_and_overdue(client, queue, translations):
    group = make_group("Первая линия")
    queue.operators_group = group
    queue.save()
    operator = make_operator("first", groups=[group])
    mine = new_ticket(queue)
    ticket_assign(ticket=mine, assignee=operator)
    overdue = new_ticket(queue)
    Ticket.objects.filter(pk=overdue.pk).update(
        first_response_due=timezone.now() - timedelta(hours=1)
    )

    html = _home(client, operator)

    def tile(name):
        start = html.index(f'id="ws-tile-{name}"')
        return html[start : html.index("</a>", start)]

    assert 'class="ws-quick-count">1<' in tile("mine")
    assert 'class="ws-quick-count">1<' in tile("unassigned")
    assert 'class="ws-quick-count">1<' in tile("breached")
    assert "ws-tile-dashboard" not in html


def test_an_operators_home_tucks_the_model_list_away(client, queue, translations):
    operator = make_operator("first")

    html = _home(client, operator)

    assert '<details class="ws-all-sections">' in html
    assert "Все разделы" in html
    assert "recent-actions-module" not in html


def test_a_supervisor_gets_the_dashboard_tile_and_the_full_list(client, supervisor, translations):
    html = _home(client, supervisor)

    assert reverse("dashboard:index") in html
    assert "ws-all-sections" not in html
    assert "Уведомления" in html
    assert "Notifications" not in html
