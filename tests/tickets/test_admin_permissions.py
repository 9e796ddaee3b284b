"""Who reaches what in the workspace: staff only, queues by group, supervisors see all."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket

pytestmark = pytest.mark.django_db

LIST = reverse("admin:tickets_ticket_changelist")


@pytest.fixture
def two_queues(queue, other_queue):
    first_line = make_group("Первая линия: Навигатор")
    queue.operators_group = first_line
    queue.save(update_fields=["operators_group"])
    return queue, other_queue, first_line


def _numbers(response):
    return {t.number for t in response.context["cl"].result_list}


def test_non_staff_never_reach_the_admin(client, queue):
    citizen = UserFactory(username="citizen", is_staff=False)
    ticket = new_ticket(queue)
    client.force_login(citizen)

    for url in (
        LIST,
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        reverse("admin:tickets_ticket_register_call"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_first_line_operator_sees_only_the_queues_of_their_group(client, two_queues):
    mine_queue, other_queue, group = two_queues
    operator = make_operator("first", groups=[group])
    mine = new_ticket(mine_queue)
    other = new_ticket(other_queue, name="Чужой", email="x@example.com")
    client.force_login(operator)

    assert _numbers(client.get(LIST)) == {mine.number}
    assert client.get(reverse("admin:tickets_ticket_change", args=[other.pk])).status_code == 404
    assert client.get(LIST, {"q": str(other.number)}).context["cl"].result_list.count() == 0


def test_second_line_group_sees_tickets_handed_to_it(client, two_queues):
    _mine_queue, other_queue, _group = two_queues
    second = make_group("Вторая линия")
    specialist = make_operator("second", groups=[second])
    ticket = new_ticket(other_queue)
    ticket.assigned_group = second
    ticket.save(update_fields=["assigned_group"])
    client.force_login(specialist)

    assert _numbers(client.get(LIST)) == {ticket.number}


def test_supervisor_permission_sees_every_queue(client, two_queues):
    mine_queue, other_queue, _group = two_queues
    boss = make_operator("boss", extra_perms=["supervise"])
    tickets = {
        new_ticket(mine_queue).number,
        new_ticket(other_queue, name="Б", email="b@example.com").number,
    }
    client.force_login(boss)

    assert _numbers(client.get(LIST)) == tickets


def test_superuser_sees_every_queue(client, supervisor, two_queues):
    mine_queue, other_queue, _group = two_queues
    tickets = {
        new_ticket(mine_queue).number,
        new_ticket(other_queue, name="Б", email="b@example.com").number,
    }
    client.force_login(supervisor)

    assert _numbers(client.get(LIST)) == tickets


def test_operator_without_change_permission_cannot_reply(client, two_queues):
    mine_queue, _other, group = two_queues
    viewer = UserFactory(username="viewer", is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    viewer.groups.add(group)
    ticket = new_ticket(mine_queue)
    client.force_login(viewer)

    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    response = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {"_action": "reply", "mode": "public", "text": "Нельзя"},
    )

    assert page.status_code == 200 and 'id="reply-form"' not in page.content.decode()
    assert response.status_code == 403
    assert ticket.messages.count() == 1


def test_contact_list_masks_personal_data_without_the_permission(client, queue):
    new_ticket(
        queue, name="Петрова Мария Ивановна", email="maria@example.com", phone="+79001234567"
    )
    operator = make_operator("plain")
    client.force_login(operator)

    html = client.get(reverse("admin:tickets_contact_changelist")).content.decode()

    assert "maria@example.com" not in html and "m***@example.com" in html
    assert "Петрова М. И." in html
