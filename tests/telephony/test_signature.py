"""The CTI webhook's door: signature, timestamp, replay, body cap, no secret = no route."""

import json
import time

import pytest

from telephony.models import CallRecord
from tests.telephony.conftest import URL, signed

pytestmark = pytest.mark.django_db

EVENT = {"event": "newCall", "callId": "c-1", "direction": "in", "from": "89123456789", "to": "100"}
BODY = json.dumps(EVENT).encode()


def _post(client, body=BODY, headers=None):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_a_correctly_signed_event_is_accepted(client, queue):
    response = _post(client, headers=signed(BODY))

    assert response.status_code == 200
    assert CallRecord.objects.get().call_id == "c-1"


def test_a_wrong_signature_is_refused(client):
    response = _post(client, headers=signed(BODY, secret="not-the-secret"))

    assert response.status_code == 401
    assert not CallRecord.objects.exists()


def test_a_missing_signature_is_refused(client):
    response = _post(client, headers={"X-CTI-Timestamp": str(int(time.time()))})

    assert response.status_code == 401


def test_a_body_changed_after_signing_is_refused(client):
    headers = signed(BODY)
    tampered = BODY.replace(b"89123456789", b"89000000000")

    assert _post(client, body=tampered, headers=headers).status_code == 401


def test_a_stale_timestamp_is_refused(client):
    response = _post(client, headers=signed(BODY, timestamp=int(time.time()) - 301))

    assert response.status_code == 401


def test_a_timestamp_from_the_future_is_refused(client):
    response = _post(client, headers=signed(BODY, timestamp=int(time.time()) + 301))

    assert response.status_code == 401


def test_a_replayed_request_is_refused(client, queue):
    headers = signed(BODY)
    assert _post(client, headers=headers).status_code == 200

    response = _post(client, headers=headers)

    assert response.status_code == 401
    assert CallRecord.objects.count() == 1


def test_an_oversize_body_is_refused_before_its_signature_is_checked(client, settings):
    settings.CTI_MAX_BODY_BYTES = 1024
    body = json.dumps({**EVENT, "padding": "x" * 2000}).encode()

    response = _post(client, body=body, headers=signed(body))

    assert response.status_code == 413
    assert not CallRecord.objects.exists()


def test_without_a_secret_the_route_is_not_there(client, settings):
    settings.CTI_SECRET = ""

    assert _post(client, headers=signed(BODY, secret="")).status_code == 404
    assert client.get(URL).status_code == 404


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


def test_a_signed_body_that_is_not_an_event_is_a_bad_request(client):
    body = json.dumps({"event": "transfer", "callId": "x"}).encode()

    assert _post(client, body=body, headers=signed(body)).status_code == 400
