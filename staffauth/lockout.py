"""django-axes glue: the client address it counts by, and the page a locked-out sign-in gets."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from helpdesk.client_address import address_key, client_address_from_request


def axes_client_address(request: HttpRequest) -> str | None:
    """The trusted-proxy client address (an IPv6 client by its /64), as every limit counts.

    Axes' own default reads X-Forwarded-For through django-ipware, which a client
    can forge to get a fresh address per attempt. Axes stores the answer in an IP
    address column (PostgreSQL's `inet`), so an IPv6 client's /64 is given as the
    network's first address, and a request without an address as None.
    """
    key = address_key(client_address_from_request(request))
    try:
        return str(ipaddress.ip_network(key, strict=False).network_address)
    except ValueError:
        return None


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "staffauth/lockout.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
