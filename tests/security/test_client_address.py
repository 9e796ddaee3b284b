"""Per-address rate limits key on an address the client cannot choose.

X-Forwarded-For is believed only from TRUSTED_PROXIES, walked from the right; IPv6
clients count by their /64; the web command in docker-compose.yml does not hand the
address to the client either (no daphne `--proxy-headers`).
"""

import os
import re
import shlex
import socket
import subprocess
import sys
import time

import httpx
import pytest
import yaml
from django.conf import settings as django_settings
from django.test import RequestFactory

from helpdesk.client_address import client_address_from_scope
from tests.chat.live import database_url_for_subprocess
from tickets.models import Ticket
from tickets.ratelimit import client_ip, rate_limit_key

STATUS_URL = "/appeal/status/"
# Reserved for these tests (the chat's live tests use 8600-8699).
COMPOSE_WEB_PORT = 8731


def _request(remote_addr: str, forwarded_for: str | None = None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_forged_forwarded_for_from_an_untrusted_peer_does_not_change_the_key(settings):
    settings.TRUSTED_PROXIES = []
    forged = [_request("203.0.113.7", f"198.51.100.{i}") for i in range(3)]

    assert {client_ip(r) for r in forged} == {"203.0.113.7"}
    assert {rate_limit_key(r) for r in forged} == {"203.0.113.7"}


def test_forwarded_for_is_ignored_when_the_peer_is_not_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(_request("203.0.113.7", "198.51.100.1, 10.0.0.5")) == "203.0.113.7"


def test_behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.10"]
    # The client forged the first two hops; 203.0.113.9 is what the first trusted proxy
    # (192.0.2.10) saw, and it reached the app through a second one (10.0.0.2).
    request = _request("10.0.0.2", "1.1.1.1, 10.9.9.9, 203.0.113.9, 192.0.2.10")

    assert client_ip(request) == "203.0.113.9"


def test_forwarded_for_hop_that_is_not_an_address_ends_the_walk(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    assert client_ip(_request("10.0.0.2", "203.0.113.1, unknown")) == "10.0.0.2"


def test_ipv6_clients_are_keyed_by_their_64(settings):
    settings.TRUSTED_PROXIES = []
    one = rate_limit_key(_request("2001:db8:1:2::1"))
    same_64 = rate_limit_key(_request("2001:db8:1:2:ffff:ffff:ffff:9"))
    other_64 = rate_limit_key(_request("2001:db8:1:3::1"))

    assert one == same_64 == "2001:db8:1:2::/64"
    assert other_64 != one


def test_ipv4_mapped_peer_is_keyed_as_ipv4(settings):
    settings.TRUSTED_PROXIES = []

    assert rate_limit_key(_request("::ffff:203.0.113.7")) == "203.0.113.7"


def test_websocket_scope_gets_the_same_answer_as_a_request(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    headers = [(b"host", b"example.org"), (b"x-forwarded-for", b"1.1.1.1, 203.0.113.9")]

    assert client_address_from_scope({"client": ("10.0.0.2", 5000), "headers": headers}) == (
        "203.0.113.9"
    )
    assert client_address_from_scope({"client": ("198.51.100.4", 5000), "headers": headers}) == (
        "198.51.100.4"
    )
    assert client_address_from_scope({"client": None, "headers": []}) == "unknown"


@pytest.mark.django_db
def test_status_lookup_limit_holds_against_rotating_forwarded_for(client, settings):
    settings.TRUSTED_PROXIES = []
    settings.STATUS_LOOKUP_RATE_LIMIT = 2
    form = {"number": "SP-0001", "contact": "nobody@example.com"}

    codes = [
        client.post(STATUS_URL, form, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
        for i in range(3)
    ]

    assert codes == [200, 200, 429]


@pytest.mark.django_db
def test_appeal_form_limit_behind_a_proxy_holds_against_rotating_forwarded_for(
    client, settings, queue
):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.APPEAL_RATE_LIMIT = 2
    data = {
        "full_name": "Петрова Мария Ивановна",
        "email": "maria@example.com",
        "queue": str(queue.pk),
        "kind": Ticket.Kind.QUESTION,
        "subject": "Вопрос",
        "text": "Здравствуйте!",
        "consent": "on",
    }

    codes = [
        client.post(
            "/appeal/",
            data,
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.9",
        ).status_code
        for i in range(3)
    ]

    assert codes == [302, 302, 429]


def _compose_web_command(port: int) -> list[str]:
    compose = yaml.safe_load((django_settings.BASE_DIR / "docker-compose.yml").read_text())
    command = compose["services"]["web"]["command"]
    if isinstance(command, str):
        command = shlex.split(command)
    command = ["127.0.0.1" if arg == "0.0.0.0" else arg for arg in command]
    command = [str(port) if arg == "8000" else arg for arg in command]
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    return [os.path.join(os.path.dirname(sys.executable), command[0]), *command[1:]]


@pytest.mark.django_db(transaction=True)
def test_compose_web_command_keeps_the_status_limit_against_rotating_forwarded_for(tmp_path):
    """The server as docker-compose.yml runs it, a client talking to it directly."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": django_settings.REDIS_URL or "",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STATUS_LOOKUP_RATE_LIMIT": "2",
        "TRUSTED_PROXIES": "",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
    }
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", COMPOSE_WEB_PORT)) == 0:
            pytest.skip(f"port {COMPOSE_WEB_PORT} is in use")
    proc = subprocess.Popen(
        _compose_web_command(COMPOSE_WEB_PORT),
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{COMPOSE_WEB_PORT}"
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            page = _wait_for_page(proc, http)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
            form = {"csrfmiddlewaretoken": token, "number": "SP-0001", "contact": "x@example.com"}
            codes = [
                http.post(
                    STATUS_URL, data=form, headers={"X-Forwarded-For": f"198.51.100.{i}"}
                ).status_code
                for i in range(3)
            ]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()

    assert codes == [200, 200, 429]


def _wait_for_page(proc: subprocess.Popen, http: httpx.Client) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            response = http.get(STATUS_URL)
            if response.status_code == 200:
                return response.text
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("web did not start")
