"""Where a webhook may be sent (the SSRF guard), and how we connect there.

A subscription's URL is typed by staff, but the request is made from inside our network:
without a guard it could reach the database, Redis, a cloud metadata service
(169.254.169.254) or an admin page on localhost. So:

* https only, unless DEBUG (http:// then allowed for local development); no user:password
  in the URL (it would sit in the log; the signature authenticates us);
* the host name is resolved here, and every address it resolves to must be a public
  unicast address (not private, loopback, link-local, multicast, reserved, shared or
  unspecified, including IPv4 addresses inside IPv6 forms), unless WEBHOOK_ALLOW_PRIVATE;
* the request then connects to the address we checked, not to the name: a DNS server
  answering "public" to the check and "private" to the connect (DNS rebinding) gets
  nowhere. TLS still verifies the certificate against the host name (SNI and
  hostname check use the name), and the Host header carries the name;
* redirects are never followed (a 3xx is a failed attempt), and no proxy from the
  environment is used (it would connect by name).
"""

import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

# RFC 6052 NAT64 prefix: the last 32 bits are an IPv4 address.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The URL may not be called (scheme, credentials, or a non-public address)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name, as typed (IDNA-encoded)
    port: int
    address: str  # the checked IP address we connect to
    path: str  # path and query

    @property
    def connect_url(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{address}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_is_public(address: str) -> bool:
    """A public unicast address (also for any IPv4 address an IPv6 form carries)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not address_is_public(str(inner)):
            return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def _private_allowed(allow_private: bool | None) -> bool:
    return settings.WEBHOOK_ALLOW_PRIVATE if allow_private is None else allow_private


def url_check(url: str, *, allow_private: bool | None = None) -> tuple[str, str, int, str]:
    """Checks that need no DNS (the admin form uses them too): (scheme, host, port, path).

    `allow_private` None: WEBHOOK_ALLOW_PRIVATE decides (other callers, such as
    click-to-call's PBX hook, pass their own setting)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(_("The URL is not valid: %(error)s") % {"error": exc}) from None
    scheme = parts.scheme.lower()
    allowed = ("https", "http") if settings.DEBUG else ("https",)
    if scheme not in allowed:
        raise TargetRefused(_("Webhook URLs must use https."))
    if parts.username or parts.password:
        raise TargetRefused(_("Webhook URLs must not contain a user name or password."))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused(_("The URL has no host."))
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetRefused(_("The host name is not valid.")) from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = port or (443 if scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None and not (_private_allowed(allow_private) or address_is_public(host)):
        raise TargetRefused(_("The address %(address)s is not public.") % {"address": host})
    return scheme, host, port, path


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def target_resolve(url: str, *, allow_private: bool | None = None) -> Target:
    """Resolve and check a URL; the Target to connect to. Raises TargetRefused."""
    scheme, host, port, path = url_check(url, allow_private=allow_private)
    try:
        addresses = _getaddrinfo(host, port)
    except OSError as exc:
        raise TargetRefused(
            _("The host name does not resolve: %(error)s") % {"error": exc}
        ) from None
    if not addresses:
        raise TargetRefused(_("The host name does not resolve."))
    if not _private_allowed(allow_private):
        # All of them: a name answering with one public and one private address would
        # otherwise reach the private one whenever the order changes.
        for address in addresses:
            if not address_is_public(address):
                raise TargetRefused(
                    _("%(host)s resolves to %(address)s, which is not public.")
                    % {"host": host, "address": address}
                )
    return Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)


def ssl_context() -> ssl.SSLContext:
    """Certificate checks as httpx does them by default (certifi's roots)."""
    return httpx.create_ssl_context()


RESPONSE_KEEP_BYTES = 4096


def target_post(
    target: Target,
    *,
    body: bytes,
    headers: dict[str, str],
    timeout: float | None = None,
    connect_timeout: float | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """POST to the checked address: (status code, response headers, start of the body).

    Timeouts default to WEBHOOK_TIMEOUT / WEBHOOK_CONNECT_TIMEOUT. Raises httpx.HTTPError
    for network failures and timeouts.
    """
    total = settings.WEBHOOK_TIMEOUT if timeout is None else timeout
    connect = settings.WEBHOOK_CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    timeout_config = httpx.Timeout(total, connect=min(connect, total))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    with httpx.Client(
        verify=ssl_context(), timeout=timeout_config, follow_redirects=False, trust_env=False
    ) as client:
        request = client.build_request(
            "POST",
            target.connect_url,
            content=body,
            headers={**headers, "Host": target.host_header},
            extensions=extensions,
        )
        deadline = time.monotonic() + total
        response = client.send(request, stream=True)
        try:
            # Only the start of the answer is kept, undecoded, and read for at most
            # the timeout in all: a receiver cannot hold a worker by dripping an
            # endless body, nor swell one with compression.
            kept = b""
            for chunk in response.iter_raw():
                kept += chunk
                if len(kept) >= RESPONSE_KEEP_BYTES:
                    break
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took too long", request=request)
        finally:
            response.close()
    return response.status_code, dict(response.headers), kept[:RESPONSE_KEEP_BYTES]
