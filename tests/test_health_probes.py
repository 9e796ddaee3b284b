"""`/healthz/live` and `/healthz/ready`: probes for orchestrators, answered before the
HTTPS redirect, the host check and the session (issue 22, item 5)."""

from unittest import mock

import pytest
from django.db import DatabaseError

import helpdesk.health as health

pytestmark = pytest.mark.django_db

SECRET_ERROR = "connection to 10.1.2.3 failed: password authentication failed for user hd"


def test_live_answers_ok():
    from django.test import Client

    response = Client().get("/healthz/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_live_asks_the_database_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz/live").status_code == 200


def test_ready_is_ok_when_database_broker_and_channel_layer_answer(client):
    response = client.get("/healthz/ready")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "broker": {"status": "ok"},
            "channel_layer": {"status": "ok"},
        },
    }


def test_ready_is_503_when_the_database_fails(client):
    with mock.patch.object(health, "_database", side_effect=DatabaseError(SECRET_ERROR)):
        response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json()["status"] == "failing"
    assert response.json()["checks"]["database"] == {"status": "failing"}


def test_ready_is_503_when_the_broker_fails(client):
    with mock.patch.object(
        health.celery_app, "connection_for_write", side_effect=ConnectionError("broker down")
    ):
        response = client.get("/healthz/ready")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"status": "failing"}


def test_ready_never_shows_error_details_even_to_staff(client, operator):
    client.force_login(operator)
    with mock.patch.object(health, "_database", side_effect=DatabaseError(SECRET_ERROR)):
        body = client.get("/healthz/ready").content.decode()

    assert "10.1.2.3" not in body
    assert "password" not in body


@pytest.mark.parametrize("path", ["/healthz/live", "/healthz/ready"])
def test_probes_over_plain_http_are_not_redirected_to_https(client, settings, path):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path)

    assert response.status_code == 200
    # The rest of the site still redirects.
    assert client.get("/healthz").status_code == 301


@pytest.mark.parametrize("path", ["/healthz/live", "/healthz/ready"])
def test_probes_answer_on_the_container_address_not_in_allowed_hosts(client, settings, path):
    settings.ALLOWED_HOSTS = ["support.example.org"]

    response = client.get(path, HTTP_HOST="172.30.80.5:8000")

    assert response.status_code == 200


def test_probes_set_no_cookie_and_are_never_cached(client):
    response = client.get("/healthz/ready")

    assert not response.cookies
    assert response["Cache-Control"] == "no-store"


def test_probe_paths_answer_only_get_and_head(client):
    assert client.head("/healthz/live").status_code == 200
    assert client.post("/healthz/live").status_code != 200


def test_probe_paths_are_exact(client):
    assert client.get("/healthz/live/extra").status_code == 404
