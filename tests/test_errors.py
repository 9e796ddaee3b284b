"""A database that does not answer gives a friendly 503 with Retry-After, not a 500."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_client(settings):
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_database_down_gives_503_with_retry_after(production_client, error):
    with mock.patch(
        "tickets.views.public.AppealForm", side_effect=error("server closed the connection")
    ):
        response = production_client.post("/appeal/", {"text": "x"})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Временно недоступно" in response.content.decode()
    assert "server closed the connection" not in response.content.decode()


def test_database_down_in_a_middleware_also_gives_503(production_client):
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load",
        side_effect=OperationalError("connection refused"),
    ):
        production_client.cookies["sessionid"] = "x" * 32
        response = production_client.get("/appeal/")

    assert response.status_code == 503


def test_other_errors_still_give_the_500_page(production_client):
    with mock.patch("tickets.views.public.AppealForm", side_effect=RuntimeError("bug")):
        response = production_client.post("/appeal/", {"text": "x"})

    assert response.status_code == 500
    assert "Retry-After" not in response
