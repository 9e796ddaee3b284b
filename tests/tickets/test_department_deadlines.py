"""Department deadlines (seed 003: «обязательный срок исполнения») and what escalation
must pass on (seed 002 §3.7): the note is required, the checklist is recorded, the
department's deadline is reminded and breach-alerted once each, in working time."""

from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.delivery import notification_build_email
from notifications.models import Notification
from tests.factories import TicketFactory, UserFactory
from tests.tickets.admin_helpers import make_group, make_operator, new_ticket
from tickets.models import BusinessCalendar, DepartmentDeadline, Message, Ticket, TicketEvent
from tickets.services import ticket_escalate, ticket_set_status
from tickets.sla_sweep import sla_sweep
from tickets.workflow import ticket_transition

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")
NOTE = "Просит пересчитать начисление; выписку проверили, ошибка на стороне расчёта."


@pytest.fixture
def billing(db):
    group = make_group("Отдел расчётов")
    DepartmentDeadline.objects.create(group=group, hours=16)
    return group


def _escalate(ticket, at=None, **kwargs):
    kwargs.setdefault("note", NOTE)
    if at is None:
        return ticket_escalate(ticket=ticket, **kwargs)
    with mock.patch("django.utils.timezone.now", return_value=at):
        return ticket_escalate(ticket=ticket, **kwargs)


def _reopen(ticket):
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().select_related("queue").get(pk=ticket.pk)
        ticket_transition(ticket=locked, to=Ticket.Status.OPEN)


def test_escalation_note_is_required(queue, operator):
    ticket = new_ticket(queue)

    with pytest.raises(ValidationError) as refused:
        ticket_escalate(ticket=ticket, actor=operator, note="  ")

    assert "note" in refused.value.message_dict
    ticket.refresh_from_db()
    assert ticket.line == Ticket.Line.FIRST and ticket.department_due is None


def test_escalation_records_what_was_and_was_not_passed_on(queue, operator):
    ticket = new_ticket(queue)

    _escalate(ticket, actor=operator, checklist=["essence", "done", "contact"])

    note = ticket.messages.get(is_internal=True, author_kind=Message.Author.OPERATOR).text
    assert note.startswith(NOTE)
    assert "Передано: суть обращения словами гражданина" in note
    assert "Не передано: полученные документы, скриншоты" in note
    assert ticket.events.get(kind=TicketEvent.Kind.ESCALATED).note == note


def test_department_deadline_uses_the_departments_own_hours(queue, operator, billing):
    ticket = new_ticket(queue)
    now = timezone.now()

    ticket = _escalate(ticket, at=now, actor=operator, group=billing)

    assert ticket.department_due == now + timedelta(hours=16)
    assert ticket.department_remind_at == now + timedelta(hours=12)  # at 75 %
    assert ticket.department_breach_at == ticket.department_due


def test_department_deadline_defaults_to_the_setting(queue, operator, settings):
    settings.DEPARTMENT_DEADLINE_HOURS = 40
    ticket = new_ticket(queue)
    now = timezone.now()

    ticket = _escalate(ticket, at=now, actor=operator)  # the second line, no department

    assert ticket.department_due == now + timedelta(hours=40)


def test_department_deadline_counts_working_hours_of_the_queues_calendar(queue, operator, billing):
    queue.calendar = BusinessCalendar.objects.create(name="Пятидневка 9–18")
    queue.save()
    ticket = new_ticket(queue)
    friday_five_pm = datetime(2026, 12, 4, 17, 0, tzinfo=MSK)

    ticket = _escalate(ticket, at=friday_five_pm, actor=operator, group=billing)

    # 1 h on Friday, 9 on Monday, 6 on Tuesday: the weekend does not count.
    assert ticket.department_due.astimezone(MSK) == datetime(2026, 12, 8, 15, 0, tzinfo=MSK)


def test_department_deadline_is_reminded_and_breach_alerted_once_each(
    queue, operator, supervisor, billing
):
    member = make_operator("billing1", groups=[billing])
    member.email = "billing1@example.com"
    member.save()
    ticket = new_ticket(queue)
    start = timezone.now()
    ticket = _escalate(ticket, at=start, actor=operator, group=billing)

    reminded = [sla_sweep(now=start + timedelta(hours=13)) for _ in range(2)]
    breached = [sla_sweep(now=start + timedelta(hours=17)) for _ in range(2)]

    assert [r["department_reminders"] for r in reminded] == [1, 0]
    assert [r["department_breaches"] for r in breached] == [1, 0]
    reminder = Notification.objects.get(template="department_reminder")
    assert reminder.recipient == "billing1@example.com"  # the department's people
    breach = Notification.objects.get(template="department_breach")
    assert breach.recipient == supervisor.email
    mail = notification_build_email(breach)
    assert "Отдел расчётов" in mail.body
    ticket.refresh_from_db()
    assert ticket.department_remind_at is None and ticket.department_breach_at is None


def test_resolving_stops_the_department_deadline(queue, operator, billing):
    ticket = _escalate(new_ticket(queue), actor=operator, group=billing)

    ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=operator)

    ticket.refresh_from_db()
    assert ticket.department_remind_at is None and ticket.department_breach_at is None
    assert sla_sweep(now=timezone.now() + timedelta(days=30))["department_breaches"] == 0


def test_waiting_for_the_citizen_pauses_the_department_deadline(queue, operator, billing):
    start = timezone.now()
    ticket = _escalate(new_ticket(queue), at=start, actor=operator, group=billing)
    due = ticket.department_due

    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=2)):
        ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING, actor=operator)
    ticket.refresh_from_db()
    assert ticket.department_breach_at is None
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=5)):
        ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN, actor=operator)

    ticket.refresh_from_db()
    assert ticket.department_due == due + timedelta(hours=3)
    assert ticket.department_breach_at == ticket.department_due


def test_the_ticket_page_shows_the_department_deadline_and_the_checklist(
    client, supervisor, queue, billing, translations
):
    ticket = new_ticket(queue)
    client.force_login(supervisor)
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "суть обращения словами гражданина" in page  # the checklist on the form

    refused = client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {"_action": "escalate", "group": billing.pk, "note": ""},
    )
    assert "Напишите комментарий для второй линии" in refused.content.decode()
    client.post(
        reverse("admin:tickets_ticket_change", args=[ticket.pk]),
        {"_action": "escalate", "group": billing.pk, "note": NOTE, "checklist": ["essence"]},
    )

    ticket.refresh_from_db()
    assert ticket.line == Ticket.Line.SECOND and ticket.department_due is not None
    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "Отдел расчётов: осталось 15 ч" in page
    assert "Не передано: что первая линия уже проверила или сделала" in page
    assert "вторая линия: Отдел расчётов" in page  # the history in words, not "second"


def test_the_bulk_escalation_asks_for_the_note(client, supervisor, queue, billing):
    from django.contrib.admin import helpers

    ticket = new_ticket(queue)
    client.force_login(supervisor)
    data = {"action": "action_escalate", helpers.ACTION_CHECKBOX_NAME: [ticket.pk]}

    asked = client.post("/admin/tickets/ticket/?show=all", data)
    client.post(
        "/admin/tickets/ticket/?show=all",
        {**data, "apply": "1", "group": billing.pk, "note": NOTE},
    )

    assert asked.status_code == 200 and "note" in asked.context["form"].fields
    ticket.refresh_from_db()
    assert ticket.assigned_group == billing and ticket.department_due is not None


def test_the_dashboard_counts_tickets_past_the_department_deadline(queue, operator):
    from tickets.dashboard import selectors
    from tickets.dashboard.filters import DashboardFilters

    now = timezone.now()
    TicketFactory(
        queue=queue, status="open", line="second", department_due=now - timedelta(hours=1)
    )
    TicketFactory(
        queue=queue, status="open", line="second", department_due=now + timedelta(hours=1)
    )
    TicketFactory(queue=queue, status="resolved", department_due=now - timedelta(hours=1))
    filters = DashboardFilters(start=now - timedelta(days=7), end=now, now=now)

    assert selectors.current_load(filters)["department_overdue"] == 1


def _breached_then_reopened(queue, operator, billing):
    """An escalated ticket past its department deadline (alerted), solved and reopened."""
    start = timezone.now()
    ticket = _escalate(new_ticket(queue), at=start, actor=operator, group=billing)
    sla_sweep(now=start + timedelta(hours=17))
    ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=operator)
    _reopen(ticket)
    return ticket, start


def _breach_lines(ticket):
    return ticket.events.filter(kind=TicketEvent.Kind.SLA, field="department_breach_at")


def test_a_department_breach_is_recorded_once_per_escalation_across_reopening(
    queue, operator, supervisor, billing
):
    ticket, start = _breached_then_reopened(queue, operator, billing)
    assert sla_sweep(now=start + timedelta(hours=18))["department_breaches"] == 0
    ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED, actor=operator)
    _reopen(ticket)  # and once more
    assert sla_sweep(now=start + timedelta(hours=19))["department_breaches"] == 0

    assert _breach_lines(ticket).count() == 1
    assert Notification.objects.filter(template="department_breach").count() == 1
    ticket.refresh_from_db()
    assert ticket.department_breach_at is None


def test_a_supervisor_added_after_the_breach_is_not_alerted_on_reopening(
    queue, operator, supervisor, billing
):
    ticket, start = _breached_then_reopened(queue, operator, billing)
    UserFactory(username="boss2", is_staff=True, is_superuser=True)

    sla_sweep(now=start + timedelta(hours=18))

    assert Notification.objects.filter(template="department_breach").count() == 1


def test_a_new_escalation_after_reopening_is_breach_alerted_again(
    queue, operator, supervisor, billing
):
    ticket, start = _breached_then_reopened(queue, operator, billing)
    again = start + timedelta(hours=20)
    ticket = _escalate(ticket, at=again, actor=operator, group=billing)

    swept = sla_sweep(now=again + timedelta(hours=17))

    assert swept["department_breaches"] == 1
    assert _breach_lines(ticket).count() == 2
    assert Notification.objects.filter(template="department_breach").count() == 2
