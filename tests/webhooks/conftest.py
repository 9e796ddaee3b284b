"""A real HTTPS receiver on 127.0.0.1 (certificate from a local CA made by trustme) and
helpers to subscribe it. Its host name, `receiver.test`, resolves to 127.0.0.1 through
the guard's resolver only, which WEBHOOK_ALLOW_PRIVATE lets through."""

import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from webhooks import services, targets
from webhooks.models import EventType

HOST = "receiver.test"
ALL_EVENTS = [value for value, _label in EventType.choices]


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Status codes to answer with, in order; 200 once they run out.
    answers: list[int] = field(default_factory=list)
    location: str = ""
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if receiver.delay:
                threading.Event().wait(receiver.delay)
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok" if status < 300 else b"no")

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture(scope="session")
def ca():
    return trustme.CA()


@pytest.fixture
def receiver(ca, settings, monkeypatch):
    receiver = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"https://{HOST}:{server.server_address[1]}/hook"

    def client_context():
        client = ssl.create_default_context()
        ca.configure_trust(client)
        return client

    monkeypatch.setattr(targets, "ssl_context", client_context)
    real = targets._getaddrinfo
    monkeypatch.setattr(
        targets,
        "_getaddrinfo",
        lambda host, port: ["127.0.0.1"] if host == HOST else real(host, port),
    )
    settings.WEBHOOK_ALLOW_PRIVATE = True
    yield receiver
    server.shutdown()
    server.server_close()


def subscribe(url: str, events=None, owner=None, **kwargs):
    subscription, _secret = services.subscription_create(
        name="Портал", url=url, event_types=events or ALL_EVENTS, actor=owner, **kwargs
    )
    services.subscriptions_forget()
    return subscription
