"""The outbox in the admin: filter by status, resend what failed."""

import pytest
from django.urls import reverse

from notifications.models import Notification
from notifications.services import notification_enqueue

pytestmark = pytest.mark.django_db


def _row(key, status):
    row = notification_enqueue(
        recipient="maria@example.com",
        template="auto_reply",
        kind=Notification.Kind.PERSONAL,
        idempotency_key=key,
        context={"number": "SP-0042"},
        reference="SP-0042",
    )
    Notification.objects.filter(pk=row.pk).update(status=status)
    return row


def test_changelist_filters_by_status(client, supervisor, django_assert_max_num_queries):
    for n in range(5):
        _row(f"sent{n}", Notification.Status.SENT)
    _row("failed", Notification.Status.FAILED)
    client.force_login(supervisor)
    url = reverse("admin:notifications_notification_changelist")
    with django_assert_max_num_queries(12):
        response = client.get(url, {"status__exact": "failed"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list.values_list("idempotency_key", flat=True)) == [
        "failed"
    ]


def test_resend_action_requeues_failed_rows_only(
    client, supervisor, django_capture_on_commit_callbacks, mailoutbox
):
    failed = _row("failed", Notification.Status.FAILED)
    sent = _row("sent", Notification.Status.SENT)
    client.force_login(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:notifications_notification_changelist"),
            {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert response.status_code == 200
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert failed.status == Notification.Status.SENT
    assert sent.status == Notification.Status.SENT
    assert len(mailoutbox) == 1
    texts = [str(m) for m in response.context["messages"]]
    assert any("1" in t and "очередь" in t for t in texts)
    assert any("пропущено" in t for t in texts)
