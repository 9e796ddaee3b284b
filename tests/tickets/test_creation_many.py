"""tickets_create_many: the rows ticket_create writes, for many appeals in one go."""

import pytest

from notifications.models import Notification
from tickets.models import Ticket, TicketEvent
from tickets.services import TicketDraft, ticket_create, tickets_create_many

pytestmark = pytest.mark.django_db

# Differ between two tickets by construction, not by how they were written.
_OWN = {"id", "number", "token", "created_at", "updated_at", "last_activity_at"}
_DUE = ("first_response_due", "sla_remind_at", "sla_breach_at")


def _draft(queue, contact, **kwargs):
    values = {"channel": Ticket.Channel.EMAIL, "subject": "Не приходит СМС", "text": "Помогите"}
    return TicketDraft(queue=queue, requester=contact, **{**values, **kwargs})


def _comparable(ticket: Ticket) -> dict:
    values = {f.attname: getattr(ticket, f.attname) for f in Ticket._meta.concrete_fields}
    offsets = {name: values[name] - ticket.created_at for name in _DUE}
    return {**{k: v for k, v in values.items() if k not in _OWN and k not in _DUE}, **offsets}


def test_many_writes_the_same_ticket_message_history_and_auto_reply_as_one(queue, contact):
    one = ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.EMAIL,
        subject="Не приходит СМС",
        text="Помогите",
    )
    (many,) = tickets_create_many(drafts=[_draft(queue, contact)])
    one.refresh_from_db()
    many.refresh_from_db()
    assert _comparable(many) == _comparable(one)
    assert many.number == one.number + 1
    for ticket in (one, many):
        message = ticket.messages.get()
        assert (message.text, message.author_kind) == ("Помогите", "requester")
        assert list(ticket.events.values_list("kind", "new_value")) == [
            (TicketEvent.Kind.CREATED, ticket.reference)
        ]
    rows = {n.idempotency_key: n for n in Notification.objects.all()}
    first, second = rows[f"ticket:{one.pk}:received"], rows[f"ticket:{many.pk}:received"]
    assert (second.template, second.kind, second.status) == (first.template, first.kind, "pending")
    assert second.context["number"] == many.reference


def test_many_numbers_follow_the_drafts_and_sets_each_draft_result(queue, contact):
    drafts = [_draft(queue, contact, subject=f"вопрос {n}") for n in range(4)]
    tickets = tickets_create_many(drafts=drafts)
    assert [t.subject for t in tickets] == ["вопрос 0", "вопрос 1", "вопрос 2", "вопрос 3"]
    assert [t.number for t in tickets] == sorted(t.number for t in tickets)
    for draft, ticket in zip(drafts, tickets, strict=True):
        assert draft.ticket == ticket
        assert draft.message.ticket_id == ticket.pk


def test_many_without_auto_reply_enqueues_nothing(queue, contact):
    tickets_create_many(drafts=[_draft(queue, contact, auto_reply=False)])
    assert not Notification.objects.exists()
