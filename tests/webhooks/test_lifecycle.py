"""A failing subscription is disabled after a day; the log is pruned; retention empties it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.webhooks.conftest import subscribe
from tickets.models import Ticket
from tickets.services import ticket_create
from webhooks import services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db


def _create(queue, contact):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Тема", text="Текст"
    )


def test_a_subscription_failing_for_a_day_is_disabled_audited_and_its_owner_mailed(
    receiver, queue, contact, mailoutbox, django_capture_on_commit_callbacks
):
    receiver.answers = [500, 500]
    owner = UserFactory(username="integrator", email="integrator@example.org", is_staff=True)
    subscription = subscribe(receiver.url, events=["ticket.created"], owner=owner)
    _create(queue, contact)
    delivery = WebhookDelivery.objects.get()
    services.delivery_send(delivery_id=delivery.pk)
    subscription.refresh_from_db()
    assert subscription.is_active and subscription.consecutive_failures == 1
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(hours=24, minutes=1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_send(delivery_id=delivery.pk)

    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.disabled_at is not None
    assert "HTTP 500" in subscription.disabled_reason
    assert AuditEvent.objects.filter(
        action="webhook.subscription_disabled",
        object_ref=f"webhooks.webhooksubscription:{subscription.pk}",
    ).exists()
    (mail,) = mailoutbox
    assert mail.to == ["integrator@example.org"]
    assert "Портал" in mail.subject
    # Nothing more goes out to it; its pending delivery waits for it to be switched on.
    assert services.webhooks_sweep(now=timezone.now() + timedelta(days=1))["due"] == 0
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING


def test_failures_for_less_than_a_day_keep_the_subscription(receiver, queue, contact):
    receiver.answers = [500]
    subscription = subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        failing_since=timezone.now() - timedelta(hours=23)
    )
    services.delivery_send(delivery_id=WebhookDelivery.objects.get().pk)
    subscription.refresh_from_db()
    assert subscription.is_active


def test_a_success_resets_the_failure_count(receiver, queue, contact):
    receiver.answers = [500]
    subscription = subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    pk = WebhookDelivery.objects.get().pk
    services.delivery_send(delivery_id=pk)
    services.delivery_send(delivery_id=pk)
    subscription.refresh_from_db()
    assert (subscription.failing_since, subscription.consecutive_failures) == (None, 0)
    assert subscription.last_success_at is not None


def test_switching_a_disabled_subscription_on_sends_what_waited(receiver, queue, contact):
    subscription = subscribe(receiver.url, events=["ticket.created"])
    _create(queue, contact)
    services.subscription_disable(subscription=subscription, reason="test")
    assert services.delivery_send(delivery_id=WebhookDelivery.objects.get().pk) == "skipped"

    services.subscription_update(subscription=subscription, actor=None, is_active=True)
    services.webhooks_sweep(now=timezone.now() + timedelta(minutes=2))

    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED
    subscription.refresh_from_db()
    assert subscription.disabled_at is None


def test_a_refused_target_is_a_logged_failed_attempt(settings, queue, contact, monkeypatch):
    from webhooks import targets

    settings.WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(targets, "_getaddrinfo", lambda host, port: ["10.0.0.8"])
    subscribe("https://crm.example.org/hook", events=["ticket.created"])
    _create(queue, contact)
    services.delivery_send(delivery_id=WebhookDelivery.objects.get().pk)
    attempt = WebhookAttempt.objects.get()
    assert attempt.status_code is None
    assert attempt.error.startswith("refused:") and "10.0.0.8" in attempt.error


def test_the_log_is_pruned_after_the_configured_days(settings, queue, contact):
    settings.WEBHOOK_LOG_DAYS = 30
    subscribe("https://portal.example.org/hook", events=["ticket.created"])
    _create(queue, contact)
    _create(queue, contact)
    old, recent = WebhookDelivery.objects.order_by("created_at")
    WebhookAttempt.objects.create(delivery=old, status_code=200)
    WebhookDelivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    assert services.webhooks_prune() == 1

    assert list(WebhookDelivery.objects.all()) == [recent]
    assert not WebhookAttempt.objects.exists()


def test_anonymising_a_requester_empties_their_payloads(queue, contact):
    from tickets.services.retention import contact_anonymise

    subscribe("https://portal.example.org/hook", events=["ticket.created"])
    _create(queue, contact)
    contact_anonymise(contact=contact)
    assert list(WebhookDelivery.objects.values_list("payload", flat=True)) == [{}]
