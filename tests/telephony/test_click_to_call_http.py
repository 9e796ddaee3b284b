"""Click-to-call through the generic HTTP hook: a real HTTP server on 127.0.0.1 stands in
for the phone exchange. Signed JSON, the SSRF guard, the per-operator rate limit, errors
shown to the operator in Russian and audited, only entries the operator may see."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from telephony.models import OperatorPhone
from telephony.signing import cti_signature, cti_signature_valid
from tests.telephony.callback_desk import callback_desk
from tests.tickets.admin_helpers import make_operator
from webhooks import targets

pytestmark = pytest.mark.django_db

SECRET = "pbx-hook-secret-0123456789"


@dataclass
class Exchange:
    url: str = ""
    requests: list[tuple[str, dict, bytes]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


@pytest.fixture
def exchange():
    exchange = Exchange()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            exchange.requests.append((self.path, dict(self.headers), body))
            if exchange.delay:
                time.sleep(exchange.delay)
            self.send_response(exchange.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    exchange.url = f"http://127.0.0.1:{server.server_address[1]}/originate"
    yield exchange
    server.shutdown()
    server.server_close()


@pytest.fixture
def desk(queue, other_queue, settings, exchange):
    # A PBX on the office network over plain http: DEBUG (http) and ALLOW_PRIVATE
    # (127.0.0.1) let it through; the SSRF tests below switch them off.
    settings.DEBUG = True
    settings.AMI_HOST = settings.AMI_SECRET = ""
    settings.CLICK_TO_CALL_URL = exchange.url
    settings.CLICK_TO_CALL_SECRET = SECRET
    settings.CLICK_TO_CALL_ALLOW_PRIVATE = True
    settings.CLICK_TO_CALL_TIMEOUT = 2
    settings.CLICK_TO_CALL_RATE_LIMIT = 10
    return callback_desk(queue, other_queue)


def _call(client, callback):
    return client.post(
        reverse("telephony:callback_call", args=[callback.pk]), HTTP_ACCEPT_LANGUAGE="ru"
    )


def _messages(response) -> list[str]:
    """The messages this request added (earlier, unread ones are still in the store)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def test_the_exchange_receives_a_signed_json_request_and_the_call_is_audited(
    client, desk, exchange
):
    anna, callback, _hidden = desk
    client.force_login(anna)

    response = _call(client, callback)

    assert response.status_code == 302
    assert len(exchange.requests) == 1
    path, headers, body = exchange.requests[0]
    assert path == "/originate" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "extension": "201",
        "number": "+79123456789",
        "callback_id": callback.pk,
        "ticket": callback.ticket.reference,
    }
    timestamp, signature = headers["X-CTI-Timestamp"], headers["X-CTI-Signature"]
    assert abs(int(timestamp) - time.time()) < 10
    assert cti_signature_valid(secret=SECRET, timestamp=timestamp, signature=signature, body=body)
    assert signature != cti_signature(secret="another", timestamp=timestamp, body=body)
    assert _messages(response) == [
        "Сейчас зазвонит ваш телефон: снимите трубку, чтобы перезвонить по "
        f"{callback.ticket.reference}."
    ]
    event = AuditEvent.objects.get(action="telephony.call_placed")
    assert event.actor == anna and event.details["via"] == "http"
    assert "+7912" not in json.dumps(event.details)


def test_a_callback_the_operator_may_not_see_is_404_and_the_exchange_hears_nothing(
    client, desk, exchange
):
    anna, _callback, hidden = desk
    client.force_login(anna)

    assert _call(client, hidden).status_code == 404
    assert client.post(reverse("telephony:callback_call", args=[999999])).status_code == 404
    assert exchange.requests == []
    assert not AuditEvent.objects.filter(action="telephony.call_placed").exists()


def test_an_operator_over_the_rate_limit_gets_a_clear_message_and_nothing_is_dialled(
    client, desk, exchange, settings
):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_RATE_LIMIT = 2
    client.force_login(anna)

    _call(client, callback)
    _call(client, callback)
    third = _call(client, callback)

    assert len(exchange.requests) == 2
    assert _messages(third) == [
        "Слишком много звонков: не больше 2 в минуту. Подождите минуту и попробуйте снова."
    ]
    refused = AuditEvent.objects.get(action="telephony.call_refused")
    assert refused.actor == anna and refused.details["reason"] == "rate_limited"


def test_the_rate_limit_counts_per_operator(client, desk, exchange, settings, queue):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_RATE_LIMIT = 1
    boris = make_operator("boris", groups=[queue.operators_group])
    OperatorPhone.objects.create(user=boris, extension="202")
    client.force_login(anna)
    _call(client, callback)
    _call(client, callback)

    client.force_login(boris)
    _call(client, callback)

    assert [json.loads(body)["extension"] for _p, _h, body in exchange.requests] == ["201", "202"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://pbx.example.com/originate",
        "file:///etc/passwd",
        "https://user:pw@pbx.example.com/originate",
        "https://127.0.0.1:{port}/originate",
        "https://localhost:{port}/originate",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/originate",
        "https://[::ffff:127.0.0.1]:{port}/originate",
    ],
)
def test_a_bad_scheme_credentials_or_a_private_loopback_link_local_address_is_refused(
    client, desk, exchange, settings, url
):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_ALLOW_PRIVATE = False
    settings.CLICK_TO_CALL_URL = url.format(port=exchange.url.rsplit(":", 1)[1].split("/")[0])
    client.force_login(anna)

    response = _call(client, callback)

    assert exchange.requests == []
    assert _messages(response)[0].startswith("Адрес АТС для звонков из браузера отклонён")
    failed = AuditEvent.objects.get(action="telephony.call_failed")
    assert failed.details["error"] == "address_refused"


def test_plain_http_is_refused_without_debug(client, desk, exchange, settings):
    anna, callback, _hidden = desk
    settings.DEBUG = False
    client.force_login(anna)

    response = _call(client, callback)

    assert exchange.requests == []
    assert "https" in _messages(response)[0]


def test_a_name_resolving_to_a_private_address_is_refused(
    client, desk, exchange, settings, monkeypatch
):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_ALLOW_PRIVATE = False
    settings.CLICK_TO_CALL_URL = "https://pbx.example.com/originate"
    monkeypatch.setattr(targets, "_getaddrinfo", lambda host, port: ["192.168.1.10"])
    client.force_login(anna)

    response = _call(client, callback)

    assert "192.168.1.10" in _messages(response)[0]


def test_a_refusal_of_the_exchange_is_shown_in_russian_and_audited(client, desk, exchange):
    anna, callback, _hidden = desk
    exchange.status = 503
    client.force_login(anna)

    response = _call(client, callback)

    assert _messages(response) == ["АТС отклонила звонок (HTTP 503). Наберите номер вручную."]
    failed = AuditEvent.objects.get(action="telephony.call_failed")
    assert failed.details["error"] == "rejected" and failed.details["status"] == 503
    assert not AuditEvent.objects.filter(action="telephony.call_placed").exists()


def test_a_slow_exchange_times_out_quickly(client, desk, exchange, settings):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_TIMEOUT = 0.3
    exchange.delay = 1.5
    client.force_login(anna)

    started = time.monotonic()
    response = _call(client, callback)

    assert time.monotonic() - started < 1.2
    assert _messages(response) == ["АТС не ответила за 0.3 с. Наберите номер вручную."]
    assert AuditEvent.objects.get(action="telephony.call_failed").details["error"] == "timeout"


def test_an_unreachable_exchange_is_reported(client, desk, exchange, settings):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_URL = "http://127.0.0.1:1/originate"
    client.force_login(anna)

    response = _call(client, callback)

    assert _messages(response) == ["АТС недоступна. Наберите номер вручную."]


def test_without_a_secret_nothing_is_sent(client, desk, exchange, settings):
    anna, callback, _hidden = desk
    settings.CLICK_TO_CALL_SECRET = ""
    client.force_login(anna)

    response = _call(client, callback)

    assert exchange.requests == []
    assert "CLICK_TO_CALL_SECRET" in _messages(response)[0]


def test_the_list_offers_the_button_with_only_the_http_hook_configured(client, desk, settings):
    anna, *_ = desk
    client.force_login(anna)
    url = reverse("admin:tickets_callbackrequest_changelist")

    assert "Call from my phone" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    settings.CLICK_TO_CALL_URL = ""
    assert "Call from my phone" not in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
