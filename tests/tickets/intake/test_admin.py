"""The quarantine in the admin: list, raw download, retry, turn into ticket; mailboxes."""

import pytest
from django.urls import reverse

from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Mailbox, Ticket

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:tickets_inboundemail_changelist"


@pytest.fixture
def quarantined(db):
    result = email_ingest(
        "Subject: без отправителя\r\n\r\nПомогите".encode(), source=InboundEmail.Source.PIPE
    )
    return InboundEmail.objects.get(pk=result.inbound_email_id)


def test_quarantine_list_shows_the_error_and_filters_by_status(admin_client, quarantined, queue):
    email_ingest(b"From: a@example.com\r\nSubject: ok\r\n\r\nhi", source="pipe")
    response = admin_client.get(reverse(CHANGELIST), {"status__exact": "quarantined"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [quarantined]
    assert quarantined.error
    assert quarantined.error.splitlines()[0][:40] in response.content.decode()


def test_quarantine_list_query_count_is_bounded(admin_client, queue, django_assert_max_num_queries):
    for i in range(20):
        email_ingest(f"From: a{i}@example.com\r\nSubject: {i}\r\n\r\nhi".encode(), source="pipe")
    with django_assert_max_num_queries(12):
        admin_client.get(reverse(CHANGELIST))


def test_change_page_shows_error_and_raw_download(admin_client, quarantined):
    response = admin_client.get(reverse("admin:tickets_inboundemail_change", args=[quarantined.pk]))
    assert response.status_code == 200
    raw = admin_client.get(reverse("admin:tickets_inboundemail_raw", args=[quarantined.pk]))
    assert b"".join(raw.streaming_content) == "Subject: без отправителя\r\n\r\nПомогите".encode()
    assert raw["Content-Type"] == "message/rfc822"


def test_retry_action_processes_a_message_that_can_now_be_routed(admin_client, make_email):
    result = email_ingest(make_email(), source="pipe")  # no queue yet: quarantined
    assert result.status == "quarantined"
    from tests.factories import QueueFactory

    QueueFactory(slug="navigator", email_address="navigator@support.example")
    admin_client.post(
        reverse(CHANGELIST), {"action": "retry", "_selected_action": [result.inbound_email_id]}
    )
    inbound = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert inbound.status == InboundEmail.Status.PROCESSED
    assert inbound.retried_by.username == "admin"


def test_turn_into_ticket_action_uses_the_chosen_queue(admin_client, quarantined, other_queue):
    admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "turn_into_ticket",
            "queue": other_queue.pk,
            "_selected_action": [quarantined.pk],
        },
    )
    quarantined.refresh_from_db()
    assert quarantined.status == InboundEmail.Status.PROCESSED
    assert quarantined.ticket.queue == other_queue


def test_turn_into_ticket_without_a_queue_changes_nothing(admin_client, quarantined):
    admin_client.post(
        reverse(CHANGELIST), {"action": "turn_into_ticket", "_selected_action": [quarantined.pk]}
    )
    assert not Ticket.objects.exists()


def test_mailbox_admin_keeps_the_password_when_left_empty(admin_client, queue):
    mailbox = Mailbox.objects.create(
        queue=queue, host="imap.example", username="u", password="secret"
    )
    url = reverse("admin:tickets_mailbox_change", args=[mailbox.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {
            "queue": queue.pk,
            "host": "imap2.example",
            "port": 993,
            "security": "ssl",
            "username": "u",
            "password": "",
            "password_env": "",
            "folder": "INBOX",
            "archive_folder": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.host == "imap2.example"
    assert mailbox.password == "secret"
