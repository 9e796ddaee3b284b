"""Rate limit, CSRF on session writes, the one error shape, no personal data in errors."""

import json
from types import SimpleNamespace

import pytest
from django.test import Client

from tests.factories import ContactFactory, TicketFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/tickets/"


@pytest.fixture
def one_window(monkeypatch):
    """Hold the rate limit's clock mid-window: a minute boundary falling between two
    requests would start a new count and make the test flaky."""
    monkeypatch.setattr("tickets.ratelimit.time", SimpleNamespace(time=lambda: 1_800_000_030.0))


def test_over_the_rate_limit_is_429_with_retry_after(api, settings, one_window):
    settings.API_RATE_LIMIT = 3
    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(URL)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "rate_limited"


def test_rate_limit_is_per_token(api_as, settings, one_window):
    settings.API_RATE_LIMIT = 1
    first, second = api_as(), api_as()
    assert first.get(URL).status_code == 200
    assert first.get(URL).status_code == 429
    assert second.get(URL).status_code == 200


def test_session_write_without_csrf_token_is_refused(api_user, queue):
    ticket = TicketFactory(queue=queue)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(api_user)
    response = browser.post(
        f"{URL}{ticket.pk}/transition/",
        json.dumps({"status": "open"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_session_write_with_csrf_token_is_accepted(api_user, queue):
    ticket = TicketFactory(queue=queue)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(api_user)
    token = "k" * 32  # a CSRF secret as the cookie holds it; the header repeats it
    browser.cookies["csrftoken"] = token
    response = browser.post(
        f"{URL}{ticket.pk}/transition/",
        json.dumps({"status": "open"}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert response.status_code == 200


def test_session_reads_need_no_csrf_token(api_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(api_user)
    assert browser.get(URL).status_code == 200


def test_errors_are_in_russian_by_default_and_english_on_request(client, api_user, translations):
    russian = client.get(URL).json()["error"]["message"]
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    assert "Authorization" in english and english.startswith("Authentication required")
    assert russian != english
    assert any("а" <= ch <= "я" for ch in russian.lower())


def test_unknown_address_under_api_is_a_json_404(api):
    response = api.get("/api/v2/nothing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_invalid_json_is_400(api, queue):
    response = api.client.post(
        URL, "{not json", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {api.token}"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_wrong_method_is_405_in_the_same_shape(api):
    response = api.client.delete(URL, HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert response.status_code == 405
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_errors_about_a_hidden_ticket_reveal_nothing_of_it(api, other_queue):
    contact = ContactFactory(full_name="Сидоров Пётр", email="petr@example.com")
    hidden = TicketFactory(queue=other_queue, requester=contact, subject="Секретная тема")
    for response in (
        api.get(f"{URL}{hidden.pk}/"),
        api.post(f"{URL}{hidden.pk}/messages/", {"text": "x"}),
        api.post(f"{URL}{hidden.pk}/transition/", {"status": "closed"}),
    ):
        text = response.content.decode()
        assert response.status_code == 404
        for secret in ("Сидоров", "petr@example.com", "Секретная", hidden.reference):
            assert secret not in text


def test_escalation_error_does_not_echo_the_requesters_data(api, queue):
    contact = ContactFactory(full_name="Сидоров Пётр", email="", phone="+79005554433")
    ticket = TicketFactory(queue=queue, channel="phone", requester=contact)
    text = api.post(f"{URL}{ticket.pk}/escalate/", {"note": "Нужен отдел"}).content.decode()
    assert "Сидоров" not in text and "5554433" not in text


# --- Defects the live contract test (tests/integration/test_api_contract.py) found ------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/kb/articles/?category=a%00b",
        "/api/v1/contacts/?email=x%00@example.com",
        "/api/v1/calls/?since=%00",
        "/api/v1/tickets/?q=SP%00",
        "/api/v1/queues/?x%00=1",
    ],
)
def test_a_nul_character_in_a_query_parameter_is_400_not_a_database_error(api, url):
    # PostgreSQL refuses NUL in text: a raw parameter reaching a filter answered 500.
    response = api.get(url)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and response.json()["error"]["fields"]


def test_post_to_an_unknown_api_address_with_a_session_is_a_json_404_not_a_csrf_page(api_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(api_user)

    response = browser.post("/api/v1/tickets/null,null/escalate/", "{}", "application/json")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_an_api_address_with_a_line_break_is_a_json_404(api):
    response = api.get("/api/v1/kb/articles/a%0Ab/")

    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"cursor": "garbage"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"estimate": "AAA"}, "estimate"),
        ({"updated_before": ""}, "updated_before"),
        ({"status": ""}, "status"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(api, query, field):
    # A garbled cursor was a 404, a bad limit or flag silently the default.
    response = api.get(URL, query)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_an_unknown_personal_data_flag_is_400(api, queue):
    ticket = TicketFactory(queue=queue)

    response = api.get(f"{URL}{ticket.pk}/", {"personal_data": "yes"})

    assert response.status_code == 400 and "personal_data" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("messages/", {"text": "Ответ", "resolve": 0}, "resolve"),
        ("messages/", {"text": 42}, "text"),
        ("transition/", {"status": "pending", "note": 0}, "note"),
        ("assign/", {"assignee": "5"}, "assignee"),
        ("assign/", {"assignee": True}, "assignee"),
    ],
)
def test_json_bodies_are_typed_not_coerced(api, queue, path, body, field):
    ticket = TicketFactory(queue=queue, status="open")

    response = api.post(f"{URL}{ticket.pk}/{path}", body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_create_refuses_a_queue_id_given_as_text(api, queue):
    body = {"queue": str(queue.pk), "subject": "Т", "text": "Т", "full_name": "И", "consent": True}

    response = api.post(URL, body)

    assert response.status_code == 400 and "queue" in response.json()["error"]["fields"]
