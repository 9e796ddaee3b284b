"""The chat-session admin lists the sessions of the user's queues only, and never shows
the session secret (half of every citizen chat token) or, without the right, the e-mail."""

import pytest

from chat.models import ChatSession
from tests.chat.conftest import start
from tests.factories import UserFactory
from tests.tickets.admin_helpers import make_group

pytestmark = pytest.mark.django_db

VIEW = ("chat.view_chatsession", "tickets.view_ticket")


@pytest.fixture
def sessions(queue, other_queue):
    for q, name in ((queue, "Навигатор"), (other_queue, "Бронирование")):
        q.operators_group = make_group(name)
        q.save(update_fields=["operators_group"])
    mine = start(queue, email="maria@example.com")
    theirs = start(other_queue, email="petr@example.com", full_name="Сидоров Пётр")
    return mine, theirs


def _operator(queue, *extra):
    user = UserFactory(username="nav-op", permissions=(*VIEW, *extra))
    user.groups.add(queue.operators_group)
    return user


def test_the_changelist_shows_only_sessions_of_the_users_queues(client, queue, sessions):
    mine, theirs = sessions
    client.force_login(_operator(queue))
    response = client.get("/admin/chat/chatsession/")
    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert listed == {mine.pk}
    assert client.get(f"/admin/chat/chatsession/{theirs.pk}/change/").status_code == 302


def test_the_session_page_never_shows_the_secret(client, queue, sessions):
    mine, _theirs = sessions
    client.force_login(UserFactory(username="root", is_superuser=True))
    body = client.get(f"/admin/chat/chatsession/{mine.pk}/change/").content.decode()
    secret = ChatSession.objects.get(pk=mine.pk).secret
    assert secret not in body
    assert "maria@example.com" in body  # a superuser sees personal data


def test_the_session_page_hides_the_email_without_view_personal_data(client, queue, sessions):
    mine, _theirs = sessions
    client.force_login(_operator(queue))
    response = client.get(f"/admin/chat/chatsession/{mine.pk}/change/")
    assert response.status_code == 200
    assert "maria@example.com" not in response.content.decode()
