"""The SLA sweep: one reminder before the deadline, one breach alert after it."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from tests.factories import ContactFactory, TicketFactory, UserFactory
from tickets.models import Ticket, TicketEvent
from tickets.services import message_add_reply, ticket_create
from tickets.sla_sweep import sla_sweep

pytestmark = pytest.mark.django_db


def _ticket(queue, contact, **kwargs):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="СМС", text="?"
    )


def _rows(template):
    return list(Notification.objects.filter(template=template).order_by("recipient"))


def test_nothing_due_sends_nothing(queue, contact, operator):
    _ticket(queue, contact)
    assert set(sla_sweep().values()) == {0}


def test_reminder_goes_to_the_assignee_once_at_75_percent(queue, contact, operator):
    ticket = _ticket(queue, contact)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=operator)
    now = ticket.created_at + timedelta(hours=18, seconds=1)

    assert sla_sweep(now=now)["reminders"] == 1
    assert sla_sweep(now=now + timedelta(minutes=1))["reminders"] == 0

    (row,) = _rows("sla_reminder")
    assert row.recipient == operator.email
    assert row.kind == Notification.Kind.ALERT
    assert row.idempotency_key.startswith(
        f"sla:remind:{ticket.pk}:{ticket.sla_remind_at.isoformat()}"
    )
    ticket.refresh_from_db()
    assert ticket.sla_remind_at is None
    assert ticket.sla_breach_at is not None
    event = ticket.events.get(kind=TicketEvent.Kind.SLA)
    assert event.field == "sla_remind_at"
    assert operator.username in event.note


def test_reminder_without_assignee_goes_to_queue_operators(queue, contact):
    group = Group.objects.create(name="Первая линия")
    members = [UserFactory(), UserFactory()]
    for user in members:
        user.groups.add(group)
    UserFactory(username="not-in-group")
    queue.operators_group = group
    queue.save()
    ticket = _ticket(queue, contact)

    sla_sweep(now=ticket.sla_remind_at)

    assert [r.recipient for r in _rows("sla_reminder")] == sorted(u.email for u in members)


def test_reminder_falls_back_to_all_staff(queue, contact):
    staff = UserFactory(is_staff=True)
    UserFactory(username="citizen-account", is_staff=False)
    ticket = _ticket(queue, contact)

    sla_sweep(now=ticket.sla_remind_at)

    assert [r.recipient for r in _rows("sla_reminder")] == [staff.email]


def test_breach_alerts_supervisors_once(queue, contact, operator, supervisor):
    perm = Permission.objects.get(codename="supervise", content_type__app_label="tickets")
    by_perm = UserFactory(username="head")
    by_perm.user_permissions.add(perm)
    by_group = UserFactory(username="head2")
    group = Group.objects.create(name="Руководители")
    group.permissions.add(perm)
    by_group.groups.add(group)
    ticket = _ticket(queue, contact)
    now = ticket.first_response_due + timedelta(seconds=1)

    result = sla_sweep(now=now)
    assert result["breaches"] == 1
    assert result["reminders"] == 0  # the deadline passed: no late "due soon"
    assert sla_sweep(now=now)["breaches"] == 0

    recipients = {r.recipient for r in _rows("sla_breach")}
    assert recipients == {supervisor.email, by_perm.email, by_group.email}
    assert not _rows("sla_reminder")
    ticket.refresh_from_db()
    assert ticket.sla_breach_at is None and ticket.sla_remind_at is None


def test_answered_ticket_gets_no_reminder(queue, contact, operator):
    ticket = _ticket(queue, contact)
    message_add_reply(ticket=ticket, author=operator, text="Ответ")

    assert sla_sweep(now=ticket.first_response_due + timedelta(hours=1))["mails"] == 0


def test_reminder_mail_is_sent_through_the_outbox(
    queue, contact, operator, django_capture_on_commit_callbacks, mailoutbox
):
    ticket = _ticket(queue, contact)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=operator)
    with django_capture_on_commit_callbacks(execute=True):
        sla_sweep(now=ticket.sla_remind_at)
    reminder = mailoutbox[-1]
    assert reminder.to == [operator.email]
    assert reminder.subject.startswith(f"[{ticket.reference}] ")
    assert reminder.message()["Auto-Submitted"] == "auto-generated"


def test_sweep_works_through_many_batches(queue, contact, operator):
    now = timezone.now()
    TicketFactory.create_batch(7, queue=queue, assignee=operator, sla_remind_at=now)

    assert sla_sweep(now=now, batch=3)["reminders"] == 7
    assert Notification.objects.filter(template="sla_reminder").count() == 7


def test_management_command_prints_counts(queue, contact, operator):
    TicketFactory(queue=queue, assignee=operator, sla_remind_at=timezone.now())
    out = StringIO()
    call_command("sla_sweep", stdout=out)
    assert "reminders=1" in out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_send_one_reminder_each(queue, operator):
    now = timezone.now()
    TicketFactory.create_batch(40, queue=queue, assignee=operator, sla_remind_at=now)
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(sla_sweep(now=now, batch=5))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r["reminders"] for r in results) == 40
    assert Notification.objects.filter(template="sla_reminder").count() == 40
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SLA).count() == 40
    assert not Ticket.objects.filter(sla_remind_at__isnull=False).exists()


@pytest.mark.postgres
def test_sweep_queries_use_the_partial_indexes_only(queue, operator):
    from tickets.sla_sweep import _tickets_due, tickets_due_for_breach, tickets_due_for_reminder

    now = timezone.now()
    # Planner statistics of a table with answered tickets in it, as in production: on
    # an empty, never analysed table the costs are guesses and the chosen index varies
    # with the width of a row.
    requester = ContactFactory()
    Ticket.objects.bulk_create(TicketFactory.build_batch(300, queue=queue, requester=requester))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tickets_ticket")
    for query, index in (
        (tickets_due_for_reminder(now, 500), "ticket_sla_remind"),
        (tickets_due_for_breach(now, 500), "ticket_sla_breach"),
        (_tickets_due("resolution_remind_at", now, 500), "ticket_resolution_remind"),
        (_tickets_due("resolution_breach_at", now, 500), "ticket_resolution_breach"),
        (_tickets_due("department_remind_at", now, 500), "ticket_department_remind"),
        (_tickets_due("department_breach_at", now, 500), "ticket_department_breach"),
        # The dashboard's «просрочено отделами» (tickets.dashboard.selectors.current_load).
        (
            Ticket.objects.filter(
                status__in=["new", "open", "pending"],
                department_due__isnull=False,
                department_due__lt=now,
                sla_paused_at__isnull=True,
            ),
            "ticket_department_open",
        ),
    ):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan
        assert "Seq Scan on tickets_ticket" not in plan
