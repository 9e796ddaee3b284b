"""The SSRF guard: where a webhook may be sent."""

import pytest

from webhooks import targets
from webhooks.targets import TargetRefused, address_is_public, target_resolve


@pytest.fixture
def dns(monkeypatch):
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(targets, "_getaddrinfo", lambda host, port: answers[host])
    return answers


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
        "64:ff9b::a00:1",
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert not address_is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_pass(address):
    assert address_is_public(address)


def test_a_private_ip_in_the_url_is_refused(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    with pytest.raises(TargetRefused):
        target_resolve("https://10.1.2.3/hook")
    with pytest.raises(TargetRefused):
        target_resolve("https://[::ffff:169.254.169.254]/latest")


def test_a_name_resolving_to_a_private_address_is_refused(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["crm.example.org"] = ["10.0.0.7"]
    with pytest.raises(TargetRefused, match="10.0.0.7"):
        target_resolve("https://crm.example.org/hook")


def test_one_private_answer_among_public_ones_refuses_the_name(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["mixed.example.org"] = ["93.184.216.34", "127.0.0.1"]
    with pytest.raises(TargetRefused):
        target_resolve("https://mixed.example.org/hook")


def test_the_target_connects_to_the_checked_address_with_the_name_as_host(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["portal.example.org"] = ["93.184.216.34"]
    target = target_resolve("https://portal.example.org:8443/hooks/in?x=1")
    assert target.connect_url == "https://93.184.216.34:8443/hooks/in?x=1"
    assert target.host_header == "portal.example.org:8443"
    assert target.host == "portal.example.org"


def test_http_is_refused_in_production(settings, dns):
    settings.DEBUG = False
    dns["portal.example.org"] = ["93.184.216.34"]
    with pytest.raises(TargetRefused, match="https"):
        target_resolve("http://portal.example.org/hook")


def test_http_is_allowed_with_debug(settings, dns):
    settings.DEBUG = True
    dns["portal.example.org"] = ["93.184.216.34"]
    assert target_resolve("http://portal.example.org/hook").connect_url.startswith("http://")


@pytest.mark.parametrize(
    "url", ["ftp://portal.example.org/x", "https://user:pw@portal.example.org/x", "https:///x"]
)
def test_other_schemes_credentials_and_missing_hosts_are_refused(settings, url):
    with pytest.raises(TargetRefused):
        target_resolve(url)


def test_allow_private_lets_a_private_target_through(settings, dns):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    dns["crm.internal"] = ["10.0.0.7"]
    assert target_resolve("https://crm.internal/hook").address == "10.0.0.7"


def test_a_name_that_does_not_resolve_is_refused(settings, monkeypatch):
    def nxdomain(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(targets, "_getaddrinfo", nxdomain)
    with pytest.raises(TargetRefused):
        target_resolve("https://nowhere.example.org/hook")
