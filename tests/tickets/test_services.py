"""The ticket core services: creation, replies, links, merge, escalation, auto-close."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from notifications.models import Notification
from tickets.models import Message, Ticket, TicketEvent, TicketLink
from tickets.services import (
    TicketClosedError,
    contact_get_or_create,
    message_add_from_requester,
    message_add_reply,
    ticket_continue_in_new,
    ticket_create,
    ticket_escalate,
    ticket_link,
    ticket_merge,
    ticket_resolve_merged,
    ticket_set_status,
    tickets_close_resolved,
)

pytestmark = pytest.mark.django_db


def _create(queue, contact, **kwargs):
    defaults = {"channel": Ticket.Channel.WEB, "subject": "Не приходит СМС", "text": "Помогите"}
    return ticket_create(queue=queue, requester=contact, **{**defaults, **kwargs})


def test_ticket_create_sets_number_due_times_first_message_and_history(queue, contact):
    ticket = _create(queue, contact)

    assert ticket.reference.startswith("SP-")
    assert ticket.first_response_due - ticket.created_at == timedelta(hours=24)
    assert ticket.sla_breach_at == ticket.first_response_due
    assert ticket.sla_remind_at == ticket.created_at + timedelta(hours=18)
    assert ticket.messages.get().author_kind == Message.Author.REQUESTER
    assert ticket.events.get().kind == TicketEvent.Kind.CREATED


def test_ticket_create_writes_one_auto_reply_row_in_the_same_transaction(queue, contact):
    ticket = _create(queue, contact)

    row = Notification.objects.get(reference=ticket.reference)
    assert row.template == "auto_reply"
    assert row.kind == Notification.Kind.AUTO_REPLY
    assert row.recipient == contact.email


def test_ticket_create_without_auto_reply_writes_no_outbox_row(queue, contact):
    _create(queue, contact, auto_reply=False)

    assert not Notification.objects.exists()


def test_numbers_increase_by_one(queue, contact):
    first, second = _create(queue, contact), _create(queue, contact)

    assert second.number == first.number + 1


def test_contact_is_found_again_by_email_case_insensitively(db):
    first = contact_get_or_create(full_name="Иван", email="Ivan@Example.com")
    again = contact_get_or_create(
        full_name="Иван Петров", email="ivan@example.com", phone="89001112233"
    )

    assert again.pk == first.pk
    assert again.phone == "+79001112233"


def test_first_public_reply_stops_the_sla_clock_and_opens_the_ticket(queue, contact, operator):
    ticket = _create(queue, contact)

    message_add_reply(ticket=ticket, author=operator, text="Здравствуйте!")
    ticket.refresh_from_db()

    assert ticket.first_response_at is not None
    assert ticket.sla_remind_at is None and ticket.sla_breach_at is None
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.assignee == operator


def test_internal_note_does_not_count_as_first_response(queue, contact, operator):
    ticket = _create(queue, contact)

    message_add_reply(ticket=ticket, author=operator, text="проверить логи", is_internal=True)
    ticket.refresh_from_db()

    assert ticket.first_response_at is None
    assert not Notification.objects.filter(template="answer").exists()


def test_reply_and_resolve_sends_one_resolution_mail(queue, contact, operator):
    ticket = _create(queue, contact)

    message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.RESOLVED
    assert list(
        Notification.objects.exclude(template="auto_reply").values_list("template", flat=True)
    ) == ["resolved"]


def test_requester_reply_reopens_a_resolved_ticket(queue, contact, operator):
    ticket = _create(queue, contact)
    message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)

    message_add_from_requester(ticket=ticket, text="Не помогло", channel=Ticket.Channel.EMAIL)
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopened_count == 1


def test_auto_generated_reply_does_not_reopen(queue, contact, operator):
    ticket = _create(queue, contact)
    message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)

    message_add_from_requester(
        ticket=ticket, text="I am out of office", channel=Ticket.Channel.EMAIL, reopen=False
    )
    ticket.refresh_from_db()

    assert ticket.status == Ticket.Status.RESOLVED


def test_message_to_closed_ticket_is_refused_for_continuation(queue, contact):
    ticket = _create(queue, contact)
    ticket_set_status(ticket=ticket, status=Ticket.Status.CLOSED)

    with pytest.raises(TicketClosedError):
        message_add_from_requester(ticket=ticket, text="ещё", channel=Ticket.Channel.WEB)


def test_continue_in_new_links_both_ways(queue, contact):
    old = _create(queue, contact)
    ticket_set_status(ticket=old, status=Ticket.Status.CLOSED)

    new = ticket_continue_in_new(ticket=old, text="снова не работает", channel=Ticket.Channel.WEB)

    assert TicketLink.objects.filter(source=new, target=old, kind="continues").exists()
    assert TicketLink.objects.filter(source=old, target=new, kind="continued_by").exists()
    assert new.requester == old.requester


def test_link_to_itself_is_refused(queue, contact):
    ticket = _create(queue, contact)

    with pytest.raises(ValidationError):
        ticket_link(source=ticket, target=ticket, kind=TicketLink.Kind.RELATED)


def test_merge_moves_messages_and_closes_the_source(queue, contact, operator):
    source, target = _create(queue, contact), _create(queue, contact)

    ticket_merge(source=source, target=target, actor=operator)
    source.refresh_from_db()

    assert source.status == Ticket.Status.CLOSED
    assert source.merged_into == target
    assert target.messages.filter(author_kind=Message.Author.REQUESTER).count() == 2
    assert ticket_resolve_merged(source) == target
    assert TicketLink.objects.filter(source=target, target=source, kind="merged_from").exists()


def test_escalating_a_phone_ticket_requires_an_email(queue, operator):
    caller = contact_get_or_create(full_name="Сидоров", phone="+79005554433")
    ticket = _create(queue, caller, channel=Ticket.Channel.PHONE)

    with pytest.raises(ValidationError) as error:
        ticket_escalate(ticket=ticket, actor=operator)

    assert "requester_email" in error.value.message_dict


def test_escalating_with_an_email_moves_to_second_line(queue, operator):
    caller = contact_get_or_create(full_name="Сидоров", phone="+79005554433")
    ticket = _create(queue, caller, channel=Ticket.Channel.PHONE)

    ticket = ticket_escalate(
        ticket=ticket, actor=operator, requester_email="sid@example.com", note="Нужен отдел"
    )

    assert ticket.line == Ticket.Line.SECOND
    assert ticket.requester.email == "sid@example.com"
    assert ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).exists()


def test_pending_pauses_and_reopening_shifts_the_deadline(queue, contact):
    ticket = _create(queue, contact)
    due = ticket.first_response_due
    ticket_set_status(ticket=ticket, status=Ticket.Status.PENDING)
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is not None and ticket.sla_breach_at is None

    Ticket.objects.filter(pk=ticket.pk).update(sla_paused_at=timezone.now() - timedelta(hours=3))
    ticket_set_status(ticket=ticket, status=Ticket.Status.OPEN)
    ticket.refresh_from_db()

    assert ticket.first_response_due - due >= timedelta(hours=3)
    assert ticket.sla_breach_at == ticket.first_response_due


def test_resolved_tickets_close_after_n_days(queue, contact, operator):
    old, recent = _create(queue, contact), _create(queue, contact)
    for ticket in (old, recent):
        message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)
    Ticket.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=8))

    closed = tickets_close_resolved(older_than_days=7)

    assert closed == 1
    assert Ticket.objects.get(pk=old.pk).status == Ticket.Status.CLOSED
    assert Ticket.objects.get(pk=recent.pk).status == Ticket.Status.RESOLVED


def test_history_is_append_only(queue, contact):
    event = _create(queue, contact).events.get()

    event.note = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ticket_lock_leaves_the_queue_row_free_for_other_tickets(queue, contact):
    import threading

    from django.db import DatabaseError, connection, transaction

    from tickets.models import Queue
    from tickets.services.tickets import ticket_lock

    ticket = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Т", text="Т"
    )
    outcome: list[str] = []

    def lock_queue_row() -> None:
        try:
            with transaction.atomic():
                Queue.objects.select_for_update(nowait=True).get(pk=queue.pk)
            outcome.append("free")
        except DatabaseError:
            outcome.append("locked")
        finally:
            connection.close()

    with transaction.atomic():
        ticket_lock(ticket)
        other = threading.Thread(target=lock_queue_row)
        other.start()
        other.join()
    assert outcome == ["free"]
