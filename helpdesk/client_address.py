"""The client's network address, for rate limits, for a Django request and an ASGI scope.

Forwarding headers are believed only when they come from a proxy in TRUSTED_PROXIES:
anybody can send `X-Forwarded-For: 1.2.3.4`, so reading it blindly (as daphne's
`--proxy-headers` does with its left-most value) lets a client pick a fresh address per
request and walk past every per-address limit. Only `X-Forwarded-For` is read;
`X-Real-IP`, `Forwarded` and the CDN headers are ignored.
"""

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest
from python_ipware import IpWare

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 clients are keyed by their /64: one subscriber usually gets a whole /64 (or more)
# and picks addresses from it at will, so a per-address limit would not hold them.
IPV6_KEY_PREFIX = 64

# python-ipware parses the hops (ports, [brackets], IPv4-mapped IPv6, junk). Its own
# trust model is not used: its proxy list is matched by string prefix against the
# header's last hops, whoever sent the header, and the socket peer is never checked.
_ipware = IpWare(precedence=())


def parse_trusted_proxies(entries: Iterable[str]) -> tuple[IPNetwork, ...]:
    """`["10.0.0.1", "172.18.0.0/16"]` → networks; ValueError on anything else."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


@lru_cache(maxsize=8)
def _trusted_networks(entries: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return parse_trusted_proxies(entries)


def _parse(value: str | None) -> IPAddress | None:
    return _ipware.parse_ip_address(value) if value else None


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    return any(address in network for network in networks)


def client_address(*, peer: str | None, forwarded_for: str | None) -> str:
    """The address of the client as the nearest untrusted hop saw it.

    `peer` is the socket's remote address (REMOTE_ADDR, `scope["client"][0]`);
    `forwarded_for` the X-Forwarded-For value (repeated headers joined with ",").
    When the peer is a trusted proxy, X-Forwarded-For is walked from the right — each
    trusted proxy appends the address it saw — skipping trusted proxies; the first
    untrusted hop is the client. Everything left of it was written by that client and
    is never read. A hop that is not an address ends the walk at the last one read.
    With TRUSTED_PROXIES empty (the default) the peer is the answer.
    """
    address = _parse(peer)
    if address is None:
        return peer or "unknown"  # a UNIX socket, or no peer at all
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not forwarded_for or not _is_trusted(address, networks):
        return str(address)
    for hop in reversed(forwarded_for.split(",")):
        hop_address = _parse(hop.strip())
        if hop_address is None:
            break
        address = hop_address
        if not _is_trusted(address, networks):
            break
    return str(address)


def client_address_from_request(request: HttpRequest) -> str:
    return client_address(
        peer=request.META.get("REMOTE_ADDR"),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
    )


def client_address_from_scope(scope: dict) -> str:
    """The same answer for an ASGI scope (a websocket consumer's `self.scope`)."""
    client = scope.get("client")
    forwarded_for = [
        value.decode("latin-1")
        for name, value in scope.get("headers", ())
        if name.lower() == b"x-forwarded-for"
    ]
    return client_address(
        peer=client[0] if client else None,
        forwarded_for=",".join(forwarded_for) or None,
    )


def address_key(address: str) -> str:
    """What per-client limits count by: the IPv4 address, or the IPv6 /64."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_KEY_PREFIX), strict=False))
    return str(parsed) if parsed is not None else address
