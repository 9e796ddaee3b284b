"""The done page: a copy button for the private link; a citizen who gave only a phone is
told how the answer reaches them."""

import pytest

from tests.tickets.admin_helpers import new_ticket

pytestmark = pytest.mark.django_db


def _done(client, ticket) -> str:
    response = client.get(f"/appeal/done/{ticket.reference}/", {"t": ticket.token})
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_a_phone_only_citizen_is_told_the_answer_comes_to_the_status_page(client, queue):
    ticket = new_ticket(queue, email="", phone="+79001234567")

    html = _done(client, ticket)

    assert 'id="answer-by-phone"' in html
    assert "поэтому письма не будет" in html
    assert "***-45-67" in html
    assert "+79001234567" not in html
    assert "отправлено на вашу электронную почту" not in html


def test_a_citizen_with_an_e_mail_is_told_the_confirmation_went_there(client, queue):
    ticket = new_ticket(queue, phone="+79001234567")

    html = _done(client, ticket)

    assert "отправлено на вашу электронную почту" in html
    assert 'id="answer-by-phone"' not in html


def test_the_copy_button_waits_for_its_script_and_names_the_link(client, queue):
    html = _done(client, new_ticket(queue))

    assert 'data-copy-target="status-link"' in html
    assert 'id="status-link"' in html
    assert "Скопировать ссылку</button>" in html
    assert "js/copy-link.js" in html
    assert 'role="status"' in html
