"""`/healthz`: is each moving part answering? Used by load balancers and compose.

Anyone gets ok/failing per component; error texts, timings and backends (which say
what runs where, and can quote hosts or credentials from a connection error) go only
to signed-in staff or to a monitor that sends HEALTHZ_TOKEN in X-Healthz-Token.
"""

import asyncio
import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache

from helpdesk.celery import app as celery_app


def _check(fn) -> dict:
    started = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:  # noqa: BLE001 - any failure is a "failing" answer
        return {"status": "failing", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
    if detail:
        result["detail"] = detail
    return result


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
        return conn.transport_cls if isinstance(conn.transport_cls, str) else "connected"


CHANNEL_LAYER_TIMEOUT = 5.0


async def _channel_round_trip(layer) -> dict:
    # One event loop for the whole round trip: the pub/sub layer subscribes a new
    # channel on the loop that created it and would never see the message on another.
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "health.ping"})
    return await asyncio.wait_for(layer.receive(channel), CHANNEL_LAYER_TIMEOUT)


def _channel_layer() -> str:
    layer = get_channel_layer()
    message = async_to_sync(_channel_round_trip)(layer)
    if message.get("type") != "health.ping":
        raise RuntimeError("channel layer returned a different message")
    return type(layer).__name__


HEALTHZ_TOKEN_HEADER = "X-Healthz-Token"


def _may_see_details(request) -> bool:
    if request.user.is_authenticated and request.user.is_staff:
        return True
    # Only in a header: a token in the URL would end up in access logs and proxies.
    sent = request.headers.get(HEALTHZ_TOKEN_HEADER, "")
    return bool(settings.HEALTHZ_TOKEN) and constant_time_compare(sent, settings.HEALTHZ_TOKEN)


@never_cache
def healthz(request):
    checks = {
        "database": _check(_database),
        "broker": _check(_broker),
        "channel_layer": _check(_channel_layer),
    }
    healthy = all(c["status"] == "ok" for c in checks.values())
    if not _may_see_details(request):
        checks = {name: {"status": check["status"]} for name, check in checks.items()}
    return JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": checks},
        status=200 if healthy else 503,
        json_dumps_params={"ensure_ascii": False},
    )


# --- Probes for orchestrators: /healthz/live and /healthz/ready ----------------------

LIVE_PATH = "/healthz/live"
READY_PATH = "/healthz/ready"


def _probe_response(payload: dict, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


def liveness() -> JsonResponse:
    """The process answers HTTP: nothing else is asked (a restart cures nothing else)."""
    return _probe_response({"status": "ok"}, 200)


def readiness() -> JsonResponse:
    """Database, broker and channel layer answer: send this process traffic.

    ok/failing per component only, for anyone: the details are `/healthz`'s, for staff.
    """
    checks = {
        "database": _check(_database),
        "broker": _check(_broker),
        "channel_layer": _check(_channel_layer),
    }
    healthy = all(check["status"] == "ok" for check in checks.values())
    return _probe_response(
        {
            "status": "ok" if healthy else "failing",
            "checks": {name: {"status": check["status"]} for name, check in checks.items()},
        },
        200 if healthy else 503,
    )


class HealthProbeMiddleware:
    """Answers the two probe paths before any other middleware runs.

    A probe comes from the orchestrator over plain HTTP, to the container's own address:
    SecurityMiddleware would redirect it to HTTPS (301), CommonMiddleware would refuse
    its Host (400, the address is not in ALLOWED_HOSTS), and the session and sign-in
    middleware would touch the database for nothing. Neither answer says more than
    ok/failing, so answering them to anyone, on any host, reveals nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            if request.path_info == LIVE_PATH:
                return liveness()
            if request.path_info == READY_PATH:
                return readiness()
        return self.get_response(request)
