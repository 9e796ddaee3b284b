"""Searching contacts by e-mail, phone or INN is a look-up of personal data: without
`view_personal_data` the answer must not depend on whether the value is on file."""

import pytest

from tests.factories import ContactFactory
from tests.tickets.admin_helpers import make_operator

pytestmark = pytest.mark.django_db

URL = "/admin/tickets/contact/"


@pytest.fixture
def contacts(db):
    ContactFactory(full_name="Петрова Мария", email="maria@example.com", phone="+79001234567")
    ContactFactory(full_name="Сидоров Пётр", email="petr@example.com", phone="+79007654321")


def _count(client, term: str) -> int:
    response = client.get(URL, {"q": term})
    assert response.status_code == 200
    return len(response.context["cl"].result_list)


def test_exact_search_is_no_look_up_without_view_personal_data(client, contacts):
    client.force_login(make_operator("op"))
    for known, unknown in (
        ("maria@example.com", "nobody@example.com"),
        ("+79001234567", "+79000000000"),
    ):
        assert _count(client, known) == _count(client, unknown)
    assert "maria@example.com" not in client.get(URL, {"q": "maria@example.com"}).content.decode()


def test_exact_search_works_with_view_personal_data(client, contacts):
    client.force_login(make_operator("pd-op", extra_perms=("view_personal_data",)))
    assert _count(client, "maria@example.com") == 1
    assert _count(client, "nobody@example.com") == 0
