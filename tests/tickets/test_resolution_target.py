"""The optional resolution target (DESIGN rule 3): one reminder, one breach alert."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from notifications.models import Notification
from tests.factories import TicketFactory
from tickets.models import Ticket, TicketEvent
from tickets.services import ticket_create
from tickets.sla_sweep import sla_sweep
from tickets.workflow import ticket_transition

pytestmark = pytest.mark.django_db


@pytest.fixture
def target_queue(queue):
    """First answer within 24 h, resolution within 72 h (clock hours: no calendar)."""
    queue.sla_resolution_hours = 72
    queue.save()
    return queue


def _ticket(queue, contact):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="СМС", text="?"
    )


def _rows(template):
    return list(Notification.objects.filter(template=template).order_by("recipient"))


def _move(ticket, to):
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().select_related("queue").get(pk=ticket.pk)
        return ticket_transition(ticket=locked, to=to)


def test_a_new_ticket_arms_the_resolution_reminder_at_75_percent_and_the_breach(
    target_queue, contact
):
    ticket = _ticket(target_queue, contact)

    assert ticket.resolution_due == ticket.created_at + timedelta(hours=72)
    assert ticket.resolution_remind_at == ticket.created_at + timedelta(hours=54)
    assert ticket.resolution_breach_at == ticket.resolution_due


def test_a_queue_without_a_resolution_target_arms_nothing(queue, contact):
    ticket = _ticket(queue, contact)

    assert ticket.resolution_due is None
    assert ticket.resolution_remind_at is None and ticket.resolution_breach_at is None


def test_resolution_reminder_goes_to_the_assignee_once(target_queue, contact, operator):
    ticket = _ticket(target_queue, contact)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=operator, first_response_at=timezone.now())
    now = ticket.resolution_remind_at + timedelta(seconds=1)

    assert sla_sweep(now=now)["resolution_reminders"] == 1
    assert sla_sweep(now=now + timedelta(minutes=1))["resolution_reminders"] == 0

    (row,) = _rows("resolution_reminder")
    assert row.recipient == operator.email
    assert row.idempotency_key.startswith(f"sla:resolution-remind:{ticket.pk}:")
    ticket.refresh_from_db()
    assert ticket.resolution_remind_at is None
    assert ticket.resolution_breach_at == ticket.resolution_due
    assert ticket.events.filter(kind=TicketEvent.Kind.SLA, field="resolution_remind_at").exists()


def test_resolution_breach_alerts_supervisors_once_and_drops_the_reminder(
    target_queue, contact, supervisor
):
    ticket = _ticket(target_queue, contact)
    now = ticket.resolution_due + timedelta(seconds=1)

    result = sla_sweep(now=now)
    assert result["resolution_breaches"] == 1
    assert result["resolution_reminders"] == 0
    assert sla_sweep(now=now)["resolution_breaches"] == 0

    assert [row.recipient for row in _rows("resolution_breach")] == [supervisor.email]
    assert not _rows("resolution_reminder")
    ticket.refresh_from_db()
    assert ticket.resolution_breach_at is None and ticket.resolution_remind_at is None


def test_a_resolved_ticket_owes_no_resolution_alerts(target_queue, contact, supervisor):
    ticket = _move(_ticket(target_queue, contact), Ticket.Status.RESOLVED)

    assert ticket.resolution_remind_at is None and ticket.resolution_breach_at is None
    assert sla_sweep(now=ticket.resolution_due + timedelta(hours=1))["mails"] == 0


def test_reopening_owes_the_target_again_but_never_repeats_a_breach_alert(
    target_queue, contact, supervisor
):
    ticket = _ticket(target_queue, contact)
    late = ticket.resolution_due + timedelta(seconds=1)
    sla_sweep(now=late)
    _move(ticket, Ticket.Status.RESOLVED)

    reopened = _move(ticket, Ticket.Status.OPEN)
    assert reopened.resolution_breach_at == reopened.resolution_due

    sla_sweep(now=late + timedelta(minutes=1))
    assert len(_rows("resolution_breach")) == 1


def test_pending_stops_the_resolution_clock_and_reopening_moves_it(target_queue, contact):
    ticket = _move(_ticket(target_queue, contact), Ticket.Status.PENDING)
    assert ticket.resolution_breach_at is None
    due = ticket.resolution_due
    paused = timezone.now() - timedelta(hours=3)
    Ticket.objects.filter(pk=ticket.pk).update(sla_paused_at=paused)

    ticket = _move(ticket, Ticket.Status.OPEN)

    assert ticket.resolution_due - due >= timedelta(hours=3)
    assert ticket.resolution_breach_at == ticket.resolution_due


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_one_resolution_breach_each(queue, supervisor):
    now = timezone.now()
    TicketFactory.create_batch(30, queue=queue, resolution_due=now, resolution_breach_at=now)
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(sla_sweep(now=now, batch=4))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r["resolution_breaches"] for r in results) == 30
    assert Notification.objects.filter(template="resolution_breach").count() == 30
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA).count() == 30


def test_the_dashboard_counts_tickets_resolved_within_their_target(queue):
    from tests.tickets.dashboard.conftest import at, make_filters
    from tickets.dashboard.selectors import resolution_summary

    for resolved, due in ((at(9, 12), at(9, 18)), (at(10, 9), at(9, 18)), (at(10, 10), None)):
        TicketFactory(
            queue=queue,
            created_at=at(9, 8),
            status=Ticket.Status.RESOLVED,
            resolved_at=resolved,
            resolution_due=due,
        )

    summary = resolution_summary(make_filters())

    assert (summary["with_target"], summary["on_target"]) == (2, 1)
    assert summary["on_target_percent"] == 50.0


def test_the_changelist_and_the_ticket_page_count_down_to_the_resolution_target(
    client, supervisor, target_queue, contact, translations
):
    ticket = _ticket(target_queue, contact)
    client.force_login(supervisor)

    listing = client.get("/admin/tickets/ticket/").content.decode()
    page = client.get(f"/admin/tickets/ticket/{ticket.pk}/change/").content.decode()

    assert "column-resolution_countdown" in listing
    assert "осталось 2 д 23 ч" in listing
    assert "решение: осталось 2 д 23 ч" in page
