"""`/healthz`: one JSON answer with the database, broker and channel layer, each ok/failing."""

from unittest import mock

import pytest
from django.db import DatabaseError

import helpdesk.health as health
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client):
    """Staff see the checks' details; what anonymous callers see is pinned in
    tests/security/test_health_disclosure.py."""
    client.force_login(UserFactory(is_staff=True))
    return client


def test_healthz_is_ok_when_everything_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "channel_layer"}
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["ms"] >= 0


def test_healthz_names_the_database_vendor(client, settings):
    from django.db import connection

    assert client.get("/healthz").json()["checks"]["database"]["detail"] == connection.vendor


def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_failing_database_gives_503_and_names_the_error(client):
    with mock.patch.object(health, "_database", side_effect=DatabaseError("connection refused")):
        response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "failing"
    assert body["checks"]["database"] == {
        "status": "failing",
        "error": "DatabaseError: connection refused",
    }
    assert body["checks"]["broker"]["status"] == "ok"
    assert body["checks"]["channel_layer"]["status"] == "ok"


def test_failing_broker_gives_503_and_the_rest_still_report(client):
    with mock.patch.object(
        health.celery_app, "connection_for_write", side_effect=ConnectionError("broker down")
    ):
        response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["status"] == "failing"
    assert "broker down" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["status"] == "ok"


def test_failing_channel_layer_gives_503(client):
    broken = mock.Mock()
    broken.new_channel.side_effect = OSError("redis unreachable")
    with mock.patch.object(health, "get_channel_layer", return_value=broken):
        response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["channel_layer"]["status"] == "failing"
    assert "redis unreachable" in body["checks"]["channel_layer"]["error"]


def test_channel_layer_that_never_delivers_fails_instead_of_hanging(client):
    import asyncio

    class SilentLayer:
        async def new_channel(self):
            return "health.silent"

        async def send(self, channel, message):
            return None

        async def receive(self, channel):
            await asyncio.sleep(3600)

    with (
        mock.patch.object(health, "get_channel_layer", return_value=SilentLayer()),
        mock.patch.object(health, "CHANNEL_LAYER_TIMEOUT", 0.1),
    ):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["status"] == "failing"


def test_long_errors_are_cut_short(client):
    with mock.patch.object(health, "_database", side_effect=DatabaseError("x" * 1000)):
        body = client.get("/healthz").json()

    assert len(body["checks"]["database"]["error"]) <= 300


@pytest.mark.redis
def test_healthz_checks_the_real_redis_channel_layer_and_broker(client):
    body = client.get("/healthz").json()

    assert body["checks"]["channel_layer"] == {
        "status": "ok",
        "ms": body["checks"]["channel_layer"]["ms"],
        "detail": "RedisPubSubChannelLayer",
    }
    assert body["checks"]["broker"]["status"] == "ok"
