"""Two sweeps (or two workers) at once send a delivery once: the claim, on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from tests.webhooks.conftest import subscribe
from tickets.models import Ticket
from tickets.services import ticket_create
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _pending_delivery(receiver, queue, contact, monkeypatch) -> WebhookDelivery:
    from webhooks.tasks import webhook_deliver_task

    subscribe(receiver.url, events=["ticket.created"])
    with monkeypatch.context() as patch:  # the on-commit publish is lost: left to sweeps
        patch.setattr(webhook_deliver_task, "apply_async", _broker_down)
        ticket_create(
            queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x"
        )
    return WebhookDelivery.objects.get()


def _broker_down(*args, **kwargs):
    raise ConnectionError("Redis is down")


def _together(work, n=2):
    barrier = threading.Barrier(n)
    errors = []

    def run():
        try:
            barrier.wait()
            work()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []


def test_two_sweeps_at_once_send_a_delivery_once(receiver, queue, contact, monkeypatch):
    receiver.delay = 0.3  # the first send is still in flight when the second sweep looks
    delivery = _pending_delivery(receiver, queue, contact, monkeypatch)
    later = timezone.now() + timedelta(seconds=61)

    _together(lambda: services.webhooks_sweep(now=later))

    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.count() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_two_workers_given_the_same_delivery_send_it_once(receiver, queue, contact, monkeypatch):
    receiver.delay = 0.3
    delivery = _pending_delivery(receiver, queue, contact, monkeypatch)
    results = []

    _together(lambda: results.append(services.delivery_send(delivery_id=delivery.pk)), n=4)

    assert sorted(results) == ["delivered", "skipped", "skipped", "skipped"]
    assert len(receiver.requests) == 1
