"""Citizen form errors: one summary at the top with links, the aria wiring on each field."""

import re

import pytest

from tickets.forms import AppealForm, StatusLookupForm
from tickets.views.satisfaction import FeedbackForm

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(queue):
    return {
        "full_name": "Петрова Мария Ивановна",
        "email": "",
        "phone": "",
        "queue": str(queue.pk),
        "kind": "question",
        "subject": "Тема",
        "text": "Текст",
        "consent": "on",
    }


def _main(response) -> str:
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_the_contact_error_is_on_both_fields_and_once_in_the_summary(data):
    form = AppealForm(data)

    assert not form.is_valid()
    assert form.errors["email"] == form.errors["phone"]
    messages = [item.message for item in form.error_summary]
    assert messages == [form.errors["email"][0]]
    assert form.error_summary[0].target == "id_email"


def test_the_summary_lists_form_wide_errors_first_then_fields_in_order(data):
    form = AppealForm({**data, "email": "maria@example.com", "full_name": "", "text": ""})
    form.is_valid()
    form.add_error(None, "Сервис недоступен")

    targets = [item.target for item in form.error_summary]

    assert targets == ["", "id_full_name", "id_text"]


def test_a_radio_group_links_to_its_first_radio_and_a_hidden_field_to_nothing():
    form = FeedbackForm({"comment": ""})
    form.is_valid()

    targets = [item.target for item in form.error_summary]

    assert targets == ["id_solved_0", ""]  # the radios, then the hidden token


def test_the_page_shows_the_summary_with_links_to_the_fields(client, data):
    response = client.post("/appeal/", {**data, "full_name": ""})
    html = _main(response)

    assert 'id="error-summary"' in html
    assert 'tabindex="-1"' in html
    assert 'href="#id_full_name"' in html
    assert 'href="#id_email"' in html
    assert "js/error-summary.js" in html
    assert "<script>" not in html  # no inline script: the pages run under a CSP


def test_each_field_with_an_error_is_invalid_and_described_by_its_error(client, data):
    html = _main(client.post("/appeal/", {**data, "full_name": "", "subject": ""}))

    for name in ("full_name", "email", "phone", "subject"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag
        described = re.search(r'aria-describedby="([^"]+)"', tag).group(1).split()
        assert f"id_{name}_error" in described
        assert f'id="id_{name}_error"' in html


def test_a_field_without_an_error_is_not_marked(client, data):
    html = _main(client.post("/appeal/", {**data, "full_name": ""}))

    tag = re.search(r"<textarea[^>]*name=\"text\"[^>]*>", html).group(0)
    assert "aria-invalid" not in tag


def test_help_text_is_linked_to_its_field(client):
    html = _main(client.get("/appeal/"))

    tag = re.search(r'<input[^>]*name="number"[^>]*>', html).group(0)
    assert 'aria-describedby="id_number_helptext"' in tag
    assert 'id="id_number_helptext"' in html


def test_the_status_look_up_shows_its_miss_in_the_summary(client):
    response = client.post("/appeal/status/", {"number": "SP-9999", "contact": "a@example.com"})

    assert isinstance(response.context["form"], StatusLookupForm)
    assert 'id="error-summary"' in _main(response)


def test_a_page_without_errors_has_no_summary(client):
    assert "error-summary" not in _main(client.get("/appeal/"))
