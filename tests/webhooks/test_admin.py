"""Webhooks in the admin: the secret shown once, changes audited, re-send behind a permission."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.webhooks.conftest import subscribe
from tickets.models import Ticket
from tickets.services import ticket_create
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

ADD = reverse("admin:webhooks_webhooksubscription_add")
DELIVERIES = reverse("admin:webhooks_webhookdelivery_changelist")


def _delivery(queue, contact, status=WebhookDelivery.Status.FAILED) -> WebhookDelivery:
    ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Тема", text="Текст"
    )
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status)
    return delivery


def _staff_with(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_creating_a_subscription_shows_the_secret_once(client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        ADD,
        {
            "name": "Портал",
            "url": "https://portal.example.org/hook",
            "event_types": ["ticket.created", "message.created"],
            "is_active": "on",
        },
    )
    subscription = WebhookSubscription.objects.get()
    assert response.status_code == 200
    assert subscription.secret in response.content.decode()
    assert subscription.created_by == supervisor
    assert subscription.event_types == ["message.created", "ticket.created"]
    change = client.get(
        reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk])
    )
    assert subscription.secret not in change.content.decode()
    event = AuditEvent.objects.get(action="webhook.subscription_created")
    assert subscription.secret not in str(event.details)


def test_a_private_address_is_refused_by_the_form(client, supervisor, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(supervisor)
    response = client.post(
        ADD, {"name": "x", "url": "https://169.254.169.254/", "event_types": ["ticket.created"]}
    )
    assert response.status_code == 200
    assert not WebhookSubscription.objects.exists()


def test_changing_a_subscription_is_audited(client, supervisor):
    subscription = subscribe("https://portal.example.org/hook", events=["ticket.created"])
    client.force_login(supervisor)
    client.post(
        reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk]),
        {
            "name": "Портал",
            "url": "https://crm.example.org/hook",
            "event_types": ["ticket.created"],
        },
    )
    subscription.refresh_from_db()
    assert (subscription.url, subscription.is_active) == ("https://crm.example.org/hook", False)
    event = AuditEvent.objects.get(action="webhook.subscription_changed")
    assert event.details["url"] == {
        "from": "https://portal.example.org/hook",
        "to": "https://crm.example.org/hook",
    }
    assert event.actor_id == supervisor.pk


def test_replacing_the_secret_shows_the_new_one_and_is_audited(client, supervisor):
    subscription = subscribe("https://portal.example.org/hook")
    old = subscription.secret
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:webhooks_webhooksubscription_changelist"),
        {"action": "rotate_secret", "_selected_action": [subscription.pk]},
    )
    subscription.refresh_from_db()
    assert subscription.secret != old
    assert subscription.secret in response.content.decode()
    assert AuditEvent.objects.filter(action="webhook.secret_rotated").count() == 1


def test_deleting_a_subscription_is_audited(client, supervisor):
    subscription = subscribe("https://portal.example.org/hook")
    client.force_login(supervisor)
    client.post(
        reverse("admin:webhooks_webhooksubscription_delete", args=[subscription.pk]),
        {"post": "yes"},
    )
    assert not WebhookSubscription.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.subscription_deleted").count() == 1


def test_the_delivery_page_shows_payload_and_attempts(
    client, supervisor, receiver, queue, contact, django_capture_on_commit_callbacks
):
    subscribe(receiver.url, events=["ticket.created"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket_create(
            queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x"
        )
    delivery = WebhookDelivery.objects.get()
    client.force_login(supervisor)
    page = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert delivery.reference in body
    assert "200" in body


def test_resend_needs_the_permission(client, queue, contact, django_capture_on_commit_callbacks):
    subscribe("https://portal.example.org/hook", events=["ticket.created"])
    delivery = _delivery(queue, contact)
    viewer = _staff_with("view_webhookdelivery", "supervise")
    client.force_login(viewer)
    changelist = client.get(DELIVERIES)
    assert changelist.status_code == 200
    assert "resend" not in changelist.content.decode()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(DELIVERIES, {"action": "resend", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
    assert callbacks == []
    assert not AuditEvent.objects.filter(action="webhook.delivery_resent").exists()


def test_resend_with_the_permission_queues_the_delivery_and_is_audited(
    client, queue, contact, django_capture_on_commit_callbacks
):
    subscribe("https://portal.example.org/hook", events=["ticket.created"])
    delivery = _delivery(queue, contact)
    client.force_login(_staff_with("view_webhookdelivery", "supervise", "resend_webhookdelivery"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(DELIVERIES, {"action": "resend", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.PENDING, 0)
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(action="webhook.delivery_resent").count() == 1


def test_queue_scoped_staff_see_only_their_queues_deliveries(
    client, queue, other_queue, contact, operator
):
    subscribe("https://portal.example.org/hook", events=["ticket.created"])
    for q in (queue, other_queue):
        ticket_create(queue=q, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x")
    viewer = _staff_with("view_webhookdelivery", "view_ticket")
    queue.operators_group = Group.objects.create(name="Навигатор")
    queue.save(update_fields=["operators_group"])
    viewer.groups.add(queue.operators_group)
    client.force_login(viewer)
    response = client.get(DELIVERIES)
    assert response.status_code == 200
    assert [d.ticket_id for d in response.context["cl"].result_list] == list(
        Ticket.objects.filter(queue=queue).values_list("pk", flat=True)
    )


def test_list_pages_make_a_fixed_number_of_queries(
    client, supervisor, queue, contact, django_assert_max_num_queries
):
    for n in range(3):
        subscribe(f"https://portal{n}.example.org/hook", events=["ticket.created"])
    for _ in range(5):
        ticket_create(
            queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="x"
        )
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        assert client.get(DELIVERIES).status_code == 200
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:webhooks_webhooksubscription_changelist"))
        assert response.status_code == 200
