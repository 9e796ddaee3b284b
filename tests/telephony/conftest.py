"""Signed CTI requests for the webhook tests."""

import json
import time
from urllib.parse import urlencode

import pytest

from telephony.signing import cti_signature

SECRET = "test-cti-secret-0123456789"
URL = "/telephony/cti/"


@pytest.fixture(autouse=True)
def _cti_secret(settings):
    settings.CTI_SECRET = SECRET
    settings.CTI_MAX_BODY_BYTES = 16384


def signed(body: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict:
    """Headers for the test client: X-CTI-Timestamp and X-CTI-Signature."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "X-CTI-Timestamp": ts,
        "X-CTI-Signature": cti_signature(secret=secret, timestamp=ts, body=body),
    }


@pytest.fixture
def post_event(client):
    """Send one CTI event, signed, as JSON (default) or form-encoded."""

    def post(fields: dict, *, form: bool = False, headers: dict | None = None):
        if form:
            body = urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(fields).encode()
            content_type = "application/json"
        return client.post(
            URL, data=body, content_type=content_type, headers=headers or signed(body)
        )

    return post
