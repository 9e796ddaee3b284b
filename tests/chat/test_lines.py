"""Storing chat lines: the short path writes the rows tickets.services writes, and the
ticket workflow still applies whenever it has something to do."""

import pytest

from chat import lines, services
from tests.chat.conftest import online, start
from tickets.models import Message, Ticket, TicketEvent
from tickets.services import message_add_from_requester, message_add_reply

pytestmark = pytest.mark.django_db

MESSAGE_FIELDS = (
    "author_kind",
    "author_id",
    "is_internal",
    "channel",
    "text",
    "html",
    "full_text",
    "email_message_id",
    "inbound_email_id",
)
EVENT_FIELDS = ("kind", "actor_id", "actor_label", "field", "old_value", "new_value", "note")
TICKET_FIELDS = ("status", "assignee_id", "reopened_count")
SLA_FIELDS = ("first_response_at", "sla_remind_at", "sla_breach_at", "resolved_at")


def _active_chat(queue, operator, email="maria@example.com"):
    online(operator)
    session = start(queue, email=email)
    return services.chat_accept(session_id=session.pk, operator=operator)


def _message(message: Message) -> dict:
    return Message.objects.values(*MESSAGE_FIELDS).get(pk=message.pk)


def _last_event(ticket_id: int) -> dict:
    return TicketEvent.objects.filter(ticket_id=ticket_id).values(*EVENT_FIELDS).last()


def _ticket(ticket_id: int) -> dict:
    """The ticket's workflow state (the SLA times only as set or not: the two tickets
    were created moments apart)."""
    row = Ticket.objects.values(*TICKET_FIELDS, *SLA_FIELDS).get(pk=ticket_id)
    return {key: (value is not None if key in SLA_FIELDS else value) for key, value in row.items()}


def test_a_citizen_line_writes_what_the_ticket_service_writes(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    other = _active_chat(queue, chat_operator, email="ivan@example.com")

    said = lines.chat_citizen_say(session_id=chat.pk, seq=1, text="Код не пришёл")
    reference = message_add_from_requester(
        ticket=other.ticket, text="Код не пришёл", channel=Ticket.Channel.CHAT
    )

    assert _message(said) == _message(reference)
    assert _last_event(chat.ticket_id) == _last_event(other.ticket_id)
    assert _ticket(chat.ticket_id) == _ticket(other.ticket_id)
    assert Ticket.objects.get(pk=chat.ticket_id).last_activity_at == said.created_at


def test_an_operator_line_writes_what_the_ticket_service_writes(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    other = _active_chat(queue, chat_operator, email="ivan@example.com")
    lines.chat_operator_say(session_id=chat.pk, operator=chat_operator, seq=1, text="Здравствуйте")
    message_add_reply(
        ticket=other.ticket, author=chat_operator, text="Здравствуйте", notify_requester=False
    )

    said = lines.chat_operator_say(
        session_id=chat.pk, operator=chat_operator, seq=2, text="Проверьте номер"
    )
    reference = message_add_reply(
        ticket=other.ticket, author=chat_operator, text="Проверьте номер", notify_requester=False
    )

    assert _message(said) == _message(reference)
    assert _last_event(chat.ticket_id) == _last_event(other.ticket_id)
    assert _ticket(chat.ticket_id) == _ticket(other.ticket_id)
    assert Ticket.objects.get(pk=chat.ticket_id).last_activity_at == said.created_at


def test_the_first_answer_in_a_chat_opens_the_ticket_and_stops_the_sla_clock(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    lines.chat_operator_say(session_id=chat.pk, operator=chat_operator, seq=1, text="Да")
    ticket = Ticket.objects.get(pk=chat.ticket_id)
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.first_response_at is not None


def test_a_citizen_line_on_a_pending_ticket_reopens_it(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    Ticket.objects.filter(pk=chat.ticket_id).update(status=Ticket.Status.PENDING)
    lines.chat_citizen_say(session_id=chat.pk, seq=1, text="Вот номер заказа")
    assert Ticket.objects.get(pk=chat.ticket_id).status == Ticket.Status.OPEN


def test_a_citizen_line_on_a_closed_ticket_is_refused(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    Ticket.objects.filter(pk=chat.ticket_id).update(status=Ticket.Status.CLOSED)
    with pytest.raises(services.ChatError) as exc:
        lines.chat_citizen_say(session_id=chat.pk, seq=1, text="Ещё вопрос")
    assert exc.value.code == "closed"
    assert not Message.objects.filter(text="Ещё вопрос").exists()


def test_a_refused_line_does_not_use_up_its_sequence_number(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    Ticket.objects.filter(pk=chat.ticket_id).update(status=Ticket.Status.CLOSED)
    with pytest.raises(services.ChatError):
        lines.chat_citizen_say(session_id=chat.pk, seq=1, text="Ещё вопрос")
    chat.refresh_from_db()
    assert chat.citizen_seq == 0


def test_a_repeated_operator_sequence_number_is_not_stored_twice(queue, chat_operator):
    chat = _active_chat(queue, chat_operator)
    first = lines.chat_operator_say(session_id=chat.pk, operator=chat_operator, seq=1, text="a")
    again = lines.chat_operator_say(session_id=chat.pk, operator=chat_operator, seq=1, text="a")
    assert first is not None and again is None
    assert Message.objects.filter(ticket_id=chat.ticket_id, text="a").count() == 1


def test_another_operator_cannot_write_into_the_chat(queue, chat_operator, django_user_model):
    chat = _active_chat(queue, chat_operator)
    stranger = django_user_model.objects.create_user(username="stranger", is_staff=True)
    with pytest.raises(services.ChatError) as exc:
        lines.chat_operator_say(session_id=chat.pk, operator=stranger, seq=1, text="Привет")
    assert exc.value.code == "not_yours"


def test_a_line_is_four_statements_without_savepoints_or_row_lock_reads(
    queue, chat_operator, django_assert_num_queries
):
    chat = _active_chat(queue, chat_operator)
    lines.chat_citizen_say(session_id=chat.pk, seq=1, text="раз")  # the ticket opens
    # UPDATE session, UPDATE ticket, INSERT message, INSERT history; the test's own
    # transaction adds the SAVEPOINT / RELEASE that stand for BEGIN / COMMIT.
    with django_assert_num_queries(6) as captured:
        lines.chat_citizen_say(session_id=chat.pk, seq=2, text="два")
    verbs = [query["sql"].split()[0] for query in captured.captured_queries]
    assert verbs == ["SAVEPOINT", "UPDATE", "UPDATE", "INSERT", "INSERT", "RELEASE"]
