"""Chat services: start, routing, lines on the ticket, offline fallback, transcript."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from chat import lines, selectors, services
from chat.models import ChatSession, OperatorPresence
from notifications.models import Notification
from tests.chat.conftest import online, start
from tests.factories import CHAT_OPERATOR, ContactFactory, TicketFactory, UserFactory
from tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db


def test_start_creates_a_chat_ticket_at_once(queue, chat_operator):
    online(chat_operator)
    session = start(queue)
    ticket = session.ticket
    assert ticket.channel == Ticket.Channel.CHAT
    assert ticket.number
    assert list(ticket.messages.values_list("text", flat=True)) == ["Не приходит СМС-код"]
    assert session.first_message_id == ticket.messages.get().pk


def test_a_live_chat_mails_the_confirmation_with_the_number_once(
    queue, chat_operator, django_capture_on_commit_callbacks
):
    online(chat_operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    with django_capture_on_commit_callbacks(execute=True):
        lines.chat_operator_say(
            session_id=session.pk, operator=chat_operator, seq=1, text="Здравствуйте!"
        )

    mails = Notification.objects.filter(template="auto_reply")
    assert list(mails.values_list("recipient", "reference")) == [
        ("maria@example.com", session.ticket.reference)
    ]


def test_a_live_chat_without_an_e_mail_mails_nothing(queue, chat_operator):
    online(chat_operator)

    start(queue, email="", phone="+79001234567")

    assert not Notification.objects.exists()


def test_citizens_read_the_operator_by_first_name_in_lines_and_status(queue):
    operator = UserFactory(
        username="op7", first_name="Анна", last_name="Соколова", permissions=CHAT_OPERATOR
    )
    online(operator)
    session = start(queue)
    services.chat_accept(session_id=session.pk, operator=operator)
    message = lines.chat_operator_say(session_id=session.pk, operator=operator, seq=1, text="Да")

    session.refresh_from_db()
    assert selectors.line_payload(message)["author"] == "Анна"
    assert services._state_payload(session)["operator"] == "Анна"


def test_with_no_operator_online_the_chat_becomes_a_ticket_with_auto_reply(
    queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    assert session.status == ChatSession.Status.OFFLINE
    assert session.ended_at is not None
    assert Notification.objects.filter(
        template="auto_reply", recipient="maria@example.com", reference=session.ticket.reference
    ).exists()


def test_an_operator_away_or_silent_does_not_count_as_online(queue, chat_operator):
    services.presence_set(user=chat_operator, availability=OperatorPresence.Availability.AWAY)
    assert not selectors.operators_available().exists()
    online(chat_operator)
    OperatorPresence.objects.update(last_seen=timezone.now() - timedelta(minutes=10))
    assert not selectors.operators_available().exists()


def test_an_existing_number_attaches_when_the_email_matches(queue, chat_operator):
    online(chat_operator)
    contact = ContactFactory(email="maria@example.com")
    ticket = TicketFactory(queue=queue, requester=contact)
    session = start(queue, number=ticket.reference, text="Продолжаю")
    assert session.ticket == ticket
    assert ticket.messages.last().text == "Продолжаю"
    assert session.first_message_id == ticket.messages.last().pk


def test_an_existing_number_with_someone_elses_email_is_refused(queue, chat_operator):
    online(chat_operator)
    ticket = TicketFactory(queue=queue, requester=ContactFactory(email="owner@example.com"))
    with pytest.raises(ValidationError) as exc:
        start(queue, number=ticket.reference, email="stranger@example.com")
    assert "number" in exc.value.error_dict
    assert ticket.messages.count() == 0


def test_a_closed_ticket_continues_in_a_new_linked_one(queue, chat_operator):
    online(chat_operator)
    contact = ContactFactory(phone="+79001112233", email="")
    old = TicketFactory(queue=queue, requester=contact, status=Ticket.Status.CLOSED)
    session = start(queue, number=old.reference, email="", phone="+7 900 111-22-33")
    assert session.ticket != old
    assert session.ticket.links.filter(target=old).exists()


def test_routing_gives_the_chat_to_the_least_loaded_operator(
    queue, django_capture_on_commit_callbacks
):
    busy = UserFactory(username="busy", permissions=CHAT_OPERATOR)
    free = UserFactory(username="free", permissions=CHAT_OPERATOR)
    online(busy)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(queue, email="a@example.com")
    first.refresh_from_db()
    assert first.operator == busy
    online(free)
    with django_capture_on_commit_callbacks(execute=True):
        second = start(queue, email="b@example.com")
    second.refresh_from_db()
    assert second.operator == free
    assert Ticket.objects.get(pk=second.ticket_id).assignee == free


def test_routing_never_exceeds_max_chats(queue, chat_operator, django_capture_on_commit_callbacks):
    online(chat_operator, max_chats=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(queue, email="a@example.com")
        second = start(queue, email="b@example.com")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ChatSession.Status.ACTIVE
    assert second.status == ChatSession.Status.WAITING


def test_ending_a_chat_routes_the_next_waiting_one(
    queue, chat_operator, django_capture_on_commit_callbacks
):
    online(chat_operator, max_chats=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = start(queue, email="a@example.com")
        second = start(queue, email="b@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        services.chat_end(session_id=first.pk, actor=chat_operator)
    second.refresh_from_db()
    assert second.status == ChatSession.Status.ACTIVE
    assert second.operator == chat_operator


def test_manual_routing_leaves_chats_waiting(
    queue, chat_operator, settings, django_capture_on_commit_callbacks
):
    settings.CHAT_ROUTING = "manual"
    online(chat_operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.WAITING
    services.chat_accept(session_id=session.pk, operator=chat_operator)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.ACTIVE


def test_accepting_over_the_limit_is_refused(queue, chat_operator, settings):
    settings.CHAT_ROUTING = "manual"
    online(chat_operator, max_chats=1)
    first, second = start(queue, email="a@example.com"), start(queue, email="b@example.com")
    services.chat_accept(session_id=first.pk, operator=chat_operator)
    with pytest.raises(services.ChatError) as exc:
        services.chat_accept(session_id=second.pk, operator=chat_operator)
    assert exc.value.code == "full"


def test_operator_lines_are_replies_without_an_email_each(
    queue, chat_operator, django_capture_on_commit_callbacks
):
    online(chat_operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    with django_capture_on_commit_callbacks(execute=True):
        message = lines.chat_operator_say(
            session_id=session.pk, operator=chat_operator, seq=1, text="Здравствуйте!"
        )
    assert message.author_kind == Message.Author.OPERATOR
    assert message.author == chat_operator
    assert Ticket.objects.get(pk=session.ticket_id).first_response_at is not None
    assert not Notification.objects.exclude(template="auto_reply").exists()


def test_a_repeated_sequence_number_is_not_stored_twice(queue, chat_operator):
    online(chat_operator)
    session = start(queue)
    assert lines.chat_citizen_say(session_id=session.pk, seq=1, text="раз") is not None
    assert lines.chat_citizen_say(session_id=session.pk, seq=1, text="раз") is None
    assert session.ticket.messages.filter(text="раз").count() == 1


def test_an_ended_chat_takes_no_more_lines(queue, chat_operator):
    online(chat_operator)
    session = start(queue)
    services.chat_end(session_id=session.pk, by_citizen=True)
    with pytest.raises(services.ChatError):
        lines.chat_citizen_say(session_id=session.pk, seq=1, text="ещё")


def test_transcript_is_mailed_on_request(queue, chat_operator, django_capture_on_commit_callbacks):
    online(chat_operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    lines.chat_operator_say(session_id=session.pk, operator=chat_operator, seq=1, text="Ответ")
    notification = services.chat_transcript_send(session=session)
    assert notification.template == "chat_transcript"
    assert notification.recipient == "maria@example.com"  # the e-mail given at the start
    texts = [line["text"] for line in notification.context["lines"]]
    assert texts == ["Не приходит СМС-код", "Ответ"]


def test_transcript_mail_renders_in_russian(queue, chat_operator):
    from notifications.delivery import notification_build_email

    online(chat_operator)
    session = start(queue)
    notification = services.chat_transcript_send(session=session)
    mail = notification_build_email(notification)
    assert session.ticket.reference in mail.subject
    assert "Не приходит СМС-код" in mail.body
    assert "Запись" in mail.subject


def test_the_citizen_token_opens_only_its_own_session(queue, chat_operator):
    online(chat_operator)
    session = start(queue)
    token = selectors.chat_token_for(session)
    assert selectors.access_chat_for_citizen(token) == session
    assert selectors.access_chat_for_citizen(token + "x") is None
    session.secret = "rotated"
    session.save(update_fields=["secret"])
    assert selectors.access_chat_for_citizen(token) is None


def test_waiting_estimate_uses_operator_capacity(queue, chat_operator):
    assert selectors.seconds_per_position() is None
    online(chat_operator, max_chats=4)
    assert selectors.seconds_per_position() == selectors.DEFAULT_HANDLE_SECONDS // 4


def test_kb_suggestions_come_from_the_knowledge_base_when_it_offers_them(monkeypatch):
    import knowledge_base.selectors as kb

    def fake_suggest(text, *, audience="public", limit=5):
        assert text == "смс код" and audience == "public"
        return [
            {
                "title": "Не приходит СМС",
                "url": "/kb/sms/",
                "absolute_url": "http://example/kb/sms/",
                "summary": "Проверьте номер",
            }
        ]

    monkeypatch.setattr(kb, "articles_suggest", fake_suggest, raising=False)
    assert selectors.kb_suggestions("смс код") == [
        {"title": "Не приходит СМС", "url": "http://example/kb/sms/", "summary": "Проверьте номер"}
    ]
    assert selectors.kb_suggestions("x") == []


def test_the_console_heartbeat_routes_chats_left_waiting(queue, chat_operator, settings):
    settings.CHAT_ROUTING = "manual"
    online(chat_operator)
    session = start(queue)  # nobody routed it
    settings.CHAT_ROUTING = "auto"
    services.presence_touch(user=chat_operator)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.ACTIVE


def test_a_heartbeat_without_a_free_slot_runs_no_routing_pass(
    queue, chat_operator, settings, monkeypatch
):
    settings.CHAT_ROUTING = "manual"
    online(chat_operator, max_chats=1)
    services.chat_accept(session_id=start(queue).pk, operator=chat_operator)
    start(queue, email="ivan@example.com")  # waits: the only operator is full
    settings.CHAT_ROUTING = "auto"
    passes = []
    monkeypatch.setattr(services, "chat_route", lambda: passes.append(1) or [])
    services.presence_touch(user=chat_operator)
    assert passes == []
