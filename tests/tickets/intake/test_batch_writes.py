"""A batch of mail writes its new tickets together: one INSERT per table, with the same
outcome as writing each message at once."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from tickets.intake.ingest import email_ingest_batch
from tickets.models import Contact, InboundEmail, Message, Ticket, TicketEvent, TicketLink
from tickets.services import ticket_create

pytestmark = pytest.mark.django_db


def batch(raws):
    return email_ingest_batch(raws, source=InboundEmail.Source.IMAP)


def inserts_into(queries, table: str) -> int:
    pattern = re.compile(rf'^INSERT INTO "?{table}"?\s', re.I)
    return sum(1 for query in queries if pattern.match(query["sql"]))


def test_new_appeals_of_a_batch_take_one_insert_per_table(queue, make_email):
    raws = [make_email(sender=f"Гражданин {n} <citizen{n}@example.com>") for n in range(20)]
    with CaptureQueriesContext(connection) as captured:
        results = batch(raws)
    assert [r.status for r in results] == ["processed"] * 20
    for table in (
        "tickets_contact",
        "tickets_ticket",
        "tickets_message",
        "tickets_ticketevent",
        "notifications_notification",
    ):
        assert inserts_into(captured.captured_queries, table) == 1, table
    assert Ticket.objects.count() == Message.objects.count() == TicketEvent.objects.count() == 20
    assert Contact.objects.count() == 20


def test_batch_tickets_get_numbers_in_the_order_their_messages_came(queue, make_email):
    stranger_target = ticket_create(
        queue=queue,
        requester=Contact.objects.create(full_name="Другой", email="other@example.com"),
        channel=Ticket.Channel.WEB,
        subject="Чужое",
        text="…",
    )
    raws = [
        make_email(sender="a@example.com", subject="первое"),
        # a stranger quoting someone else's number: written at once, linked as related
        make_email(sender="b@example.com", subject=f"Re: [{stranger_target.reference}] вопрос"),
        make_email(sender="c@example.com", subject="третье"),
    ]
    results = batch(raws)
    numbers = [Ticket.objects.get(pk=r.ticket_id).number for r in results]
    assert numbers == sorted(numbers)
    assert stranger_target.pk not in {r.ticket_id for r in results}
    assert TicketLink.objects.filter(
        source_id=results[1].ticket_id, target=stranger_target, kind=TicketLink.Kind.RELATED
    ).exists()


def test_every_new_appeal_of_a_batch_gets_one_auto_reply_published_once(
    queue, make_email, django_capture_on_commit_callbacks
):
    raws = [make_email(sender=f"citizen{n}@example.com") for n in range(5)]
    with django_capture_on_commit_callbacks() as callbacks:
        results = batch(raws)
    keys = set(Notification.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"ticket:{r.ticket_id}:received" for r in results}
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}
    assert len(callbacks) == 1  # one broker publish for the whole batch


def test_auto_replies_of_one_batch_count_against_the_hourly_cap(queue, make_email, settings):
    settings.AUTO_REPLY_HOURLY_CAP = 3
    raws = [make_email(sender="maria@example.com", subject=f"вопрос {n}") for n in range(5)]
    batch(raws)
    statuses = list(Notification.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["pending"] * 3 + ["suppressed"] * 2


def test_a_new_sender_writing_twice_in_one_batch_gets_one_contact(queue, make_email):
    raws = [make_email(sender="Новый <new@example.com>", subject=f"вопрос {n}") for n in range(3)]
    results = batch(raws)
    assert Contact.objects.filter(email="new@example.com").count() == 1
    assert len({r.ticket_id for r in results}) == 3


def test_auto_submitted_mail_in_a_batch_opens_a_ticket_without_an_auto_reply(queue, make_email):
    raws = [
        make_email(sender="a@example.com"),
        make_email(sender="b@example.com", headers={"Auto-Submitted": "auto-replied"}),
    ]
    results = batch(raws)
    assert [r.status for r in results] == ["processed", "processed"]
    (only,) = Notification.objects.values_list("idempotency_key", flat=True)
    assert only == f"ticket:{results[0].ticket_id}:received"
