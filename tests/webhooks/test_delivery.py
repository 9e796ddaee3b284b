"""Deliveries: written with the change, sent signed over HTTPS, retried, claimed once."""

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from tests.webhooks.conftest import HOST, subscribe
from tickets.models import Ticket
from tickets.services import message_add_reply, ticket_create, ticket_set_status
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.signing import signature_verify

pytestmark = pytest.mark.django_db


def _create(queue, contact, **kwargs):
    return ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Не приходит СМС-код",
        text="Код подтверждения не приходит уже час.",
        **kwargs,
    )


def test_ticket_created_is_delivered_signed_over_https(
    receiver, queue, contact, django_capture_on_commit_callbacks
):
    subscription = subscribe(receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = _create(queue, contact)

    (request,) = receiver.requests
    delivery = WebhookDelivery.objects.get()
    assert request.headers["X-Helpdesk-Event"] == "ticket.created"
    assert request.headers["X-Helpdesk-Delivery"] == str(delivery.pk)
    assert request.headers["Host"] == f"{HOST}:{receiver.url.split(':')[2].split('/')[0]}"
    assert signature_verify(
        secret=subscription.secret,
        header=request.headers["X-Helpdesk-Signature"],
        body=request.body,
    )
    payload = json.loads(request.body)
    assert payload["event"] == "ticket.created"
    assert payload["ticket"]["number"] == ticket.reference
    assert payload["message"]["text"] == "Код подтверждения не приходит уже час."
    assert delivery.status == WebhookDelivery.Status.DELIVERED
    attempt = WebhookAttempt.objects.get()
    assert (attempt.status_code, attempt.response_body) == (200, "ok")


def test_deliveries_roll_back_with_the_change(receiver, queue, contact):
    subscribe(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        _create(queue, contact)
        assert WebhookDelivery.objects.count() == 1
        raise RuntimeError
    assert WebhookDelivery.objects.count() == 0


def test_only_subscribed_events_are_recorded(receiver, queue, contact, operator):
    subscribe(receiver.url, events=["ticket.status_changed"])
    ticket = _create(queue, contact)
    ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, actor=operator)
    assert list(WebhookDelivery.objects.values_list("event", flat=True)) == [
        "ticket.status_changed"
    ]
    payload = WebhookDelivery.objects.get().payload
    assert payload["change"] == {"field": "status", "from": "new", "to": "pending"}
    assert payload["actor"] == {"kind": "staff", "username": "operator"}


def test_a_failed_attempt_is_retried_after_the_backoff(
    receiver, queue, contact, django_capture_on_commit_callbacks
):
    receiver.answers = [500]
    subscribe(receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        _create(queue, contact)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=25)

    assert services.webhooks_sweep()["due"] == 0  # not before the back-off
    services.webhooks_sweep(now=delivery.next_attempt_at)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    assert len(receiver.requests) == 2
    # The same delivery id both times: the receiver de-duplicates by it.
    assert {r.headers["X-Helpdesk-Delivery"] for r in receiver.requests} == {str(delivery.pk)}


def test_backoff_doubles_from_thirty_seconds_up_to_six_hours():
    assert [services.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert services.backoff(15) == timedelta(hours=6)


def test_a_delivery_fails_for_good_after_the_last_attempt(receiver, settings, queue, contact):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.answers = [500, 503]
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    delivery = WebhookDelivery.objects.get()
    assert services.delivery_send(delivery_id=delivery.pk) == "pending"
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("failed", 2, 503)
    assert services.webhooks_sweep(now=timezone.now() + timedelta(days=1))["due"] == 0


def test_broker_down_at_event_time_is_delivered_by_the_sweep(
    receiver, queue, contact, monkeypatch, django_capture_on_commit_callbacks
):
    from webhooks.tasks import webhook_deliver_task

    subscribe(receiver.url, events=["ticket.created"])

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    with monkeypatch.context() as patch:
        patch.setattr(webhook_deliver_task, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            _create(queue, contact)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending"

    result = services.webhooks_sweep(now=timezone.now() + timedelta(seconds=61))

    assert result["published"] == 1
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_row_left_sending_by_a_dead_worker_is_sent_again(receiver, queue, contact):
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    delivery = services.delivery_claim(WebhookDelivery.objects.get().pk)  # then the worker died
    assert services.webhooks_sweep(now=timezone.now() + timedelta(seconds=60))["requeued"] == 0

    services.webhooks_sweep(now=timezone.now() + timedelta(seconds=121))

    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(receiver.requests) == 1


def test_a_stale_claim_cannot_record_an_outcome(receiver, queue, contact):
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    stale = services.delivery_claim(WebhookDelivery.objects.get().pk)
    services.webhooks_sweep(now=timezone.now() + timedelta(seconds=121))  # re-claimed, sent
    services._outcome_record(
        delivery=stale,
        subscription=stale.subscription,
        started_at=timezone.now(),
        status_code=500,
        duration_ms=1,
        error="HTTP 500",
        response_text="",
    )
    stale.refresh_from_db()
    assert stale.status == "delivered"


def test_a_claimed_delivery_is_not_claimed_twice(receiver, queue, contact):
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    pk = WebhookDelivery.objects.get().pk
    assert services.delivery_claim(pk) is not None
    assert services.delivery_claim(pk) is None
    assert services.delivery_send(delivery_id=pk) == "skipped"
    assert receiver.requests == []


def test_a_redirect_is_not_followed(receiver, queue, contact):
    receiver.answers = [302]
    receiver.location = "https://169.254.169.254/latest/meta-data/"
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    delivery = WebhookDelivery.objects.get()

    assert services.delivery_send(delivery_id=delivery.pk) == "pending"

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.last_status_code == 302
    assert delivery.last_error.startswith("redirect to https://169.254.169.254/")


def test_the_name_is_resolved_once_and_the_checked_address_is_used(
    receiver, queue, contact, monkeypatch
):
    """DNS rebinding: the address checked is the address connected to."""
    from webhooks import targets

    answers = iter([["127.0.0.1"], ["10.9.9.9"]])
    calls = []

    def rebinding_dns(host, port):
        calls.append(host)
        return next(answers)

    monkeypatch.setattr(targets, "_getaddrinfo", rebinding_dns)
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)

    assert services.delivery_send(delivery_id=WebhookDelivery.objects.get().pk) == "delivered"
    assert calls == [HOST]


def test_payloads_carry_no_internal_notes(receiver, queue, contact, operator):
    from tickets.services import ticket_escalate

    subscribe(receiver.url)
    ticket = _create(queue, contact)
    message_add_reply(ticket=ticket, author=operator, text="СЕКРЕТ-ЗАМЕТКА-1", is_internal=True)
    ticket_escalate(ticket=ticket, actor=operator, note="СЕКРЕТ-ЗАМЕТКА-2")
    ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, note="СЕКРЕТ-ЗАМЕТКА-3")
    message_add_reply(ticket=ticket, author=operator, text="Публичный ответ")

    payloads = json.dumps(
        list(WebhookDelivery.objects.values_list("payload", flat=True)), ensure_ascii=False
    )
    assert "СЕКРЕТ" not in payloads
    assert "Публичный ответ" in payloads
    events = list(WebhookDelivery.objects.order_by("created_at").values_list("event", flat=True))
    assert "ticket.escalated" in events
    # The internal note made no message.created of its own; the public answer did.
    assert events.count("message.created") == 1


def test_payloads_name_no_contact(receiver, queue, contact):
    subscribe(receiver.url)
    _create(queue, contact)
    payload = json.dumps(WebhookDelivery.objects.get().payload, ensure_ascii=False)
    for personal in (contact.full_name, contact.email, contact.phone):
        assert personal not in payload
    assert json.loads(payload)["actor"] == {"kind": "requester"}


def test_no_subscription_records_nothing(queue, contact):
    _create(queue, contact)
    assert WebhookDelivery.objects.count() == 0


def test_with_no_subscription_history_costs_no_query(queue, contact, django_assert_num_queries):
    from tickets.models import TicketEvent

    ticket = _create(queue, contact)
    services.subscriptions_active()  # the list is read at most every 5 s per process
    with django_assert_num_queries(1):
        TicketEvent.objects.create(ticket=ticket, kind=TicketEvent.Kind.FIELD, field="x")


def test_an_inactive_subscription_gets_nothing(receiver, queue, contact):
    subscribe(receiver.url, is_active=False)
    _create(queue, contact)
    assert WebhookDelivery.objects.count() == 0


def test_a_delivery_for_a_deleted_subscription_is_failed_quietly(receiver, queue, contact):
    subscription = subscribe(receiver.url, events=["ticket.created"])
    services.subscriptions_active()  # another process still has it cached
    services.subscription_delete(subscription=subscription, actor=None)
    services._cache = (float("inf"), services._cache[1])  # (and keeps it for a while)
    _create(queue, contact)
    delivery = WebhookDelivery.objects.get()
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    assert receiver.requests == []


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(receiver, settings, queue, contact):
    settings.WEBHOOK_TIMEOUT = 0.3
    receiver.delay = 1.0
    subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    delivery = WebhookDelivery.objects.get()

    assert services.delivery_send(delivery_id=delivery.pk) == "pending"

    delivery.refresh_from_db()
    assert delivery.last_error.startswith("timeout")
    assert WebhookAttempt.objects.get().status_code is None
