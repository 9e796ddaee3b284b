"""`/healthz` tells the public ok/failing per component and nothing more.

Error texts (which can name hosts, users, paths), timings and backends are for
signed-in staff, or for a monitor sending HEALTHZ_TOKEN in the X-Healthz-Token header.
"""

from unittest import mock

import pytest
from django.db import DatabaseError

import helpdesk.health as health
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET_ERROR = "connection to 10.1.2.3 failed: password authentication failed for user hd"
TOKEN = "monitor-token-0123456789abcdef0123456789"


def _failing_database():
    return mock.patch.object(health, "_database", side_effect=DatabaseError(SECRET_ERROR))


def test_public_healthz_shows_only_ok_or_failing_per_component(client):
    with _failing_database():
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {
            "database": {"status": "failing"},
            "broker": {"status": "ok"},
            "channel_layer": {"status": "ok"},
        },
    }
    assert "10.1.2.3" not in response.content.decode()


def test_public_healthz_shows_no_timings_or_backends_when_healthy(client):
    body = client.get("/healthz").json()

    assert body["checks"] == {name: {"status": "ok"} for name in body["checks"]}


def test_signed_in_non_staff_user_gets_no_details(client):
    client.force_login(UserFactory(is_staff=False))
    with _failing_database():
        body = client.get("/healthz").json()

    assert body["checks"]["database"] == {"status": "failing"}


def test_staff_see_the_error(client):
    client.force_login(UserFactory(is_staff=True))
    with _failing_database():
        body = client.get("/healthz").json()

    assert SECRET_ERROR in body["checks"]["database"]["error"]


def test_healthz_token_in_the_header_shows_the_details(client, settings):
    settings.HEALTHZ_TOKEN = TOKEN
    with _failing_database():
        body = client.get("/healthz", HTTP_X_HEALTHZ_TOKEN=TOKEN).json()

    assert SECRET_ERROR in body["checks"]["database"]["error"]


def test_wrong_healthz_token_shows_no_details(client, settings):
    settings.HEALTHZ_TOKEN = TOKEN
    with _failing_database():
        body = client.get("/healthz", HTTP_X_HEALTHZ_TOKEN=TOKEN[:-1] + "x").json()

    assert body["checks"]["database"] == {"status": "failing"}


def test_healthz_token_in_the_url_is_not_accepted(client, settings):
    settings.HEALTHZ_TOKEN = TOKEN
    with _failing_database():
        body = client.get("/healthz", {"token": TOKEN, "healthz_token": TOKEN}).json()

    assert body["checks"]["database"] == {"status": "failing"}


def test_unset_healthz_token_never_matches_an_empty_header(client, settings):
    settings.HEALTHZ_TOKEN = ""
    with _failing_database():
        body = client.get("/healthz", HTTP_X_HEALTHZ_TOKEN="").json()

    assert body["checks"]["database"] == {"status": "failing"}


def test_healthz_token_is_compared_in_constant_time(client, settings):
    settings.HEALTHZ_TOKEN = TOKEN
    with mock.patch.object(
        health, "constant_time_compare", wraps=health.constant_time_compare
    ) as compare:
        client.get("/healthz", HTTP_X_HEALTHZ_TOKEN="guess")

    compare.assert_called_once_with("guess", TOKEN)
