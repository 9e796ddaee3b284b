"""`/metrics`: Prometheus figures for supervisors' monitoring (issue 22, item 5).

Two kinds of figures:

- per process, counted as requests pass (`RequestMetricsMiddleware`): HTTP requests by
  method and status, and their latency by view. The view is the URL pattern's name
  (`tickets:status`), never the path, which carries ticket numbers and tokens; an
  unmatched path counts as `unmatched`. With several web processes set
  PROMETHEUS_MULTIPROC_DIR (an empty directory per deployment, emptied at start) and
  every process's figures are summed in one answer;
- state of the whole system, read from the database at scrape time (`SystemCollector`):
  outbox backlog and the age of its oldest pending row, open tickets and open SLA
  breaches per queue, chats waiting for an operator, the Celery queue's length (Redis
  broker only). Only counts and ages: no names, addresses, numbers or texts.

Who may read it: signed-in staff with the `tickets.supervise` permission, or a scraper
sending `Authorization: Bearer <METRICS_TOKEN>`. Anyone else gets 404 (the endpoint is
not there for them).

This module is the monitoring adapter of the project package, which may read every app;
its queries are small aggregate counts over indexed columns.
"""

import logging
import os
import time

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

HTTP_REQUESTS = Counter(
    "helpdesk_http_requests",
    "HTTP requests answered, by method and status code.",
    ["method", "status"],
)
HTTP_LATENCY = Histogram(
    "helpdesk_http_request_duration_seconds",
    "Time from the first middleware to the response, by view (URL pattern name).",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def _view_label(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or "unnamed"


class RequestMetricsMiddleware:
    """Counts every request and times it, labelled by view name (never by path)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            method = request.method if request.method in KNOWN_METHODS else "other"
            HTTP_REQUESTS.labels(method=method, status=str(response.status_code)).inc()
            HTTP_LATENCY.labels(view=_view_label(request)).observe(time.perf_counter() - started)
        except Exception:  # noqa: BLE001 - figures must never break a request
            logger.exception("could not record request metrics")
        return response


# --- System state, read at scrape time ----------------------------------------------


def _outbox_backlog():
    from notifications.models import Notification

    row = Notification.objects.filter(
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING]
    ).aggregate(count=Count("pk"), oldest=Min("created_at"))
    return row["count"], row["oldest"]


def _open_tickets_by_queue(now):
    from tickets.models import Queue, Ticket
    from tickets.selectors_admin import OPEN_STATUSES

    owed = Q(first_response_at__isnull=True, sla_paused_at__isnull=True)
    rows = (
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .values("queue_id")
        .annotate(
            count=Count("pk"), breached=Count("pk", filter=owed & Q(first_response_due__lt=now))
        )
        .order_by()
    )
    slugs = dict(Queue.objects.values_list("pk", "slug"))
    return [(slugs.get(row["queue_id"], "unknown"), row["count"], row["breached"]) for row in rows]


def _chats_waiting() -> int:
    from chat.models import ChatSession

    return ChatSession.objects.filter(status=ChatSession.Status.WAITING).count()


def _celery_queue_length() -> int | None:
    """Messages waiting in Celery's default queue, on a Redis broker; None otherwise."""
    broker = settings.CELERY_BROKER_URL or ""
    if not broker.startswith(("redis://", "rediss://")):
        return None
    import redis

    client = redis.Redis.from_url(broker, socket_timeout=2, socket_connect_timeout=2)
    try:
        return int(client.llen(getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")))
    finally:
        client.close()


class SystemCollector:
    """Gauges computed from the database (and broker) on each scrape."""

    def describe(self):
        return []

    def collect(self):
        now = timezone.now()
        up = GaugeMetricFamily(
            "helpdesk_metrics_source_up",
            "1 when the figures of this source could be read at this scrape.",
            labels=["source"],
        )
        for source, reader in (
            ("outbox", self._outbox),
            ("tickets", self._tickets),
            ("chat", self._chat),
            ("celery", self._celery),
        ):
            try:
                families = list(reader(now))
            except Exception:  # noqa: BLE001 - one source down must not hide the others
                logger.warning("metrics: %s figures unavailable", source, exc_info=True)
                up.add_metric([source], 0)
                continue
            up.add_metric([source], 1)
            yield from families
        yield up

    def _outbox(self, now):
        count, oldest = _outbox_backlog()
        yield GaugeMetricFamily(
            "helpdesk_outbox_backlog", "Outgoing messages not sent yet (pending or sending).", count
        )
        yield GaugeMetricFamily(
            "helpdesk_outbox_oldest_pending_seconds",
            "Age of the oldest outgoing message not sent yet; 0 when none.",
            (now - oldest).total_seconds() if oldest else 0,
        )

    def _tickets(self, now):
        open_tickets = GaugeMetricFamily(
            "helpdesk_tickets_open",
            "Open tickets (new, open, pending), by queue.",
            labels=["queue"],
        )
        breaches = GaugeMetricFamily(
            "helpdesk_sla_breaches_open",
            "Open tickets past their first-answer deadline without an answer, by queue.",
            labels=["queue"],
        )
        for queue, count, breached in _open_tickets_by_queue(now):
            open_tickets.add_metric([queue], count)
            breaches.add_metric([queue], breached)
        yield open_tickets
        yield breaches

    def _chat(self, now):
        yield GaugeMetricFamily(
            "helpdesk_chats_waiting", "Chats waiting for an operator.", _chats_waiting()
        )

    def _celery(self, now):
        length = _celery_queue_length()
        if length is not None:
            yield GaugeMetricFamily(
                "helpdesk_celery_queue_length", "Tasks waiting in Celery's default queue.", length
            )


SYSTEM_COLLECTOR = SystemCollector()


def metrics_registry() -> CollectorRegistry:
    """This process's figures, or every process's with PROMETHEUS_MULTIPROC_DIR."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (HTTP_REQUESTS, HTTP_LATENCY):
            registry.register(collector)
    registry.register(SYSTEM_COLLECTOR)
    return registry


# The default registry also has the process and platform collectors; without
# multiprocess mode they describe this process, which is useful. With it they would
# describe one random process, so they are left out.
def _process_collectors():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return []
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    return [PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR]


METRICS_TOKEN_PREFIX = "Bearer "


def may_read_metrics(request) -> bool:
    user = request.user
    if user.is_authenticated and user.is_staff and user.has_perm("tickets.supervise"):
        return True
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith(METRICS_TOKEN_PREFIX):
        return False
    return constant_time_compare(header[len(METRICS_TOKEN_PREFIX) :].strip(), token)


@never_cache
def metrics(request):
    if request.method not in ("GET", "HEAD") or not may_read_metrics(request):
        raise Http404
    registry = metrics_registry()
    for collector in _process_collectors():
        registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
