"""`/metrics`: Prometheus figures for supervisors or a scraper with METRICS_TOKEN; counts
and ages only, never personal data (issue 22, item 5)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from chat.models import ChatSession
from notifications.models import Notification
from tests.factories import ContactFactory, TicketFactory, UserFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

TOKEN = "scraper-token-0123456789abcdef0123456789"
SUPERVISOR = ("tickets.supervise",)


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def _scrape(client, **headers) -> str:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def _value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in the metrics")


def test_anonymous_caller_gets_404(client, token):
    assert client.get("/metrics").status_code == 404


def test_staff_without_the_supervise_permission_get_404(client, token):
    client.force_login(UserFactory(is_staff=True))

    assert client.get("/metrics").status_code == 404


def test_supervisor_reads_the_metrics(client):
    client.force_login(UserFactory(is_staff=True, permissions=SUPERVISOR))

    assert "helpdesk_outbox_backlog" in _scrape(client)


def test_non_staff_user_with_the_permission_gets_404(client):
    client.force_login(UserFactory(is_staff=False, permissions=SUPERVISOR))

    assert client.get("/metrics").status_code == 404


def test_scraper_with_the_bearer_token_reads_the_metrics(client, token):
    assert "helpdesk_outbox_backlog" in _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


@pytest.mark.parametrize(
    "header",
    ["Bearer wrong-token", f"Basic {TOKEN}", TOKEN, "Bearer ", f"Bearer {TOKEN[:-1]}"],
)
def test_wrong_or_malformed_token_gets_404(client, token, header):
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 404


def test_token_in_the_query_string_is_not_accepted(client, token):
    assert client.get("/metrics", {"token": TOKEN}).status_code == 404


def test_empty_metrics_token_setting_lets_no_token_in(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_requests_are_counted_by_view_name_never_by_path(client, token):
    ticket = TicketFactory()
    client.get(f"/appeal/{ticket.reference}/", {"t": "secret-status-token"})

    text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert 'helpdesk_http_request_duration_seconds_count{view="tickets:status"}' in text
    assert 'helpdesk_http_requests_total{method="GET",status=' in text
    assert ticket.reference not in text
    assert "secret-status-token" not in text


def test_unmatched_paths_share_one_label(client, token):
    client.get("/no-such-page-SP-0042/")

    text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert 'view="unmatched"' in text
    assert "no-such-page" not in text


def test_outbox_backlog_and_the_age_of_its_oldest_row(client, token):
    now = timezone.now()
    for i, (status, age) in enumerate(
        [("pending", 600), ("sending", 60), ("sent", 3600), ("failed", 7200)]
    ):
        Notification.objects.create(
            kind=Notification.Kind.AUTO_REPLY,
            recipient=f"citizen{i}@example.com",
            template="tickets/auto_reply",
            idempotency_key=f"metrics-{i}",
            status=status,
            created_at=now - timedelta(seconds=age),
        )

    text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert _value(text, "helpdesk_outbox_backlog") == 2
    assert _value(text, "helpdesk_outbox_oldest_pending_seconds") >= 600


def test_open_tickets_and_sla_breaches_per_queue(client, token, queue):
    past = timezone.now() - timedelta(hours=1)
    TicketFactory(queue=queue, status=Ticket.Status.OPEN, first_response_due=past)
    TicketFactory(queue=queue, status=Ticket.Status.NEW, first_response_due=past)
    TicketFactory(
        queue=queue, status=Ticket.Status.OPEN, first_response_due=past, first_response_at=past
    )
    TicketFactory(queue=queue, status=Ticket.Status.OPEN)  # due tomorrow
    TicketFactory(queue=queue, status=Ticket.Status.CLOSED, first_response_due=past)

    text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert _value(text, f'helpdesk_tickets_open{{queue="{queue.slug}"}}') == 4
    assert _value(text, f'helpdesk_sla_breaches_open{{queue="{queue.slug}"}}') == 2


def test_chats_waiting_for_an_operator(client, token, queue):
    for status in ("waiting", "waiting", "active"):
        ChatSession.objects.create(ticket=TicketFactory(queue=queue), queue=queue, status=status)

    text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert _value(text, "helpdesk_chats_waiting") == 2


def test_metrics_never_show_personal_data(client, token, queue):
    contact = ContactFactory(
        full_name="Петрова Мария Ивановна", email="maria@example.com", phone="+79001234567"
    )
    ticket = TicketFactory(queue=queue, requester=contact, subject="Не приходит СМС-код")
    Notification.objects.create(
        kind=Notification.Kind.AUTO_REPLY,
        recipient=contact.email,
        template="tickets/auto_reply",
        reference=ticket.reference,
        idempotency_key="metrics-personal",
    )

    text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    for private in ("Петрова", "maria@example.com", "+79001234567", "СМС", ticket.reference):
        assert private not in text


def test_a_source_that_fails_is_reported_down_and_the_others_still_answer(client, token):
    from unittest import mock

    import helpdesk.metrics as metrics

    with mock.patch.object(metrics, "_chats_waiting", side_effect=RuntimeError("db gone")):
        text = _scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert _value(text, 'helpdesk_metrics_source_up{source="chat"}') == 0
    assert _value(text, 'helpdesk_metrics_source_up{source="outbox"}') == 1
    assert "helpdesk_outbox_backlog" in text


COUNT_ONE_REQUEST = """
import django
django.setup()
from helpdesk.metrics import HTTP_REQUESTS
HTTP_REQUESTS.labels(method="GET", status="200").inc()
"""

READ_ALL = """
import django
django.setup()
from prometheus_client import generate_latest
from helpdesk import metrics
# Only the request figures are the point here (the database is the test's own).
metrics.SystemCollector.collect = lambda self: iter(())
print(generate_latest(metrics.metrics_registry()).decode())
"""


def test_with_a_multiprocess_directory_the_figures_of_all_processes_add_up(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }

    def run(code):
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=Path(django_settings.BASE_DIR),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout

    for _ in range(3):
        run(COUNT_ONE_REQUEST)

    assert 'helpdesk_http_requests_total{method="GET",status="200"} 3.0' in run(READ_ALL)
