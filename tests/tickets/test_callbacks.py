"""Call-backs (regulation 12): requests, windows, due times, outcomes, K attempts, mail."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from notifications.models import Notification
from tests.tickets.admin_helpers import new_ticket
from tickets.models import CallbackRequest, Ticket, TicketEvent
from tickets.services import (
    CallbackAttemptConflict,
    CallbackWish,
    callback_for_missed_call,
    callback_record_attempt,
    callback_record_outcome,
    callback_request,
)
from tickets.services.callbacks import callback_due_at, callback_window_bounds

pytestmark = pytest.mark.django_db


def _local(*args) -> datetime:
    return timezone.make_aware(datetime(*args), timezone.get_current_timezone())


def _request(ticket, phone="8 (912) 345-67-89", **kwargs):
    return callback_request(
        ticket=ticket,
        wish=CallbackWish(phone=phone, **kwargs),
        source=CallbackRequest.Source.WEB,
    )


def test_callback_request_normalises_the_phone_and_records_history(queue):
    ticket = new_ticket(queue)

    callback = _request(ticket, reason="Не приходит код")

    assert callback.phone == "+79123456789"
    assert callback.is_open and callback.attempts == 0
    event = ticket.events.get(kind=TicketEvent.Kind.CALLBACK)
    assert "Не приходит код" in event.note


def test_callback_without_a_window_is_due_after_the_target_hours(queue, settings):
    settings.CALLBACK_TARGET_HOURS = 4
    ticket = new_ticket(queue)
    before = timezone.now()

    callback = _request(ticket)

    assert before + timedelta(hours=4) <= callback.due_at <= timezone.now() + timedelta(hours=4)


def test_callback_in_a_later_window_is_due_by_the_end_of_that_window(settings):
    settings.CALLBACK_TARGET_HOURS = 4
    now = _local(2026, 3, 10, 8, 0)
    bounds = callback_window_bounds(day="tomorrow", window="evening", now=now)

    assert bounds == (_local(2026, 3, 11, 17, 0), _local(2026, 3, 11, 20, 0))
    assert callback_due_at(now=now, bounds=bounds) == _local(2026, 3, 11, 20, 0)


def test_callback_in_the_current_window_is_due_within_target_hours_or_the_window_end(settings):
    settings.CALLBACK_TARGET_HOURS = 4
    now = _local(2026, 3, 10, 12, 30)
    bounds = callback_window_bounds(day="today", window="afternoon", now=now)

    assert callback_due_at(now=now, bounds=bounds) == _local(2026, 3, 10, 16, 30)


def test_asking_again_while_a_callback_is_open_returns_the_same_entry(queue):
    ticket = new_ticket(queue)
    first = _request(ticket)

    second = _request(ticket, phone="+79000000000")

    assert second.pk == first.pk
    assert CallbackRequest.objects.filter(ticket=ticket).count() == 1


def test_callback_request_refuses_a_number_that_is_not_a_phone(queue):
    with pytest.raises(ValidationError):
        _request(new_ticket(queue), phone="12-34")


def test_reached_closes_the_entry_and_the_note_lands_on_the_ticket(queue, operator):
    ticket = new_ticket(queue)
    callback = _request(ticket)

    callback = callback_record_outcome(
        callback=callback, outcome="reached", actor=operator, note="Объяснил, как войти"
    )

    assert callback.closed_at is not None and callback.outcome == "reached"
    assert ticket.messages.filter(is_internal=True, text__contains="Объяснил").exists()
    assert ticket.events.filter(kind=TicketEvent.Kind.CALLBACK, new_value="reached").exists()


def test_reached_and_solved_is_first_contact_resolution(queue, operator):
    ticket = new_ticket(queue)
    callback = _request(ticket)

    callback_record_outcome(callback=callback, outcome="reached_solved", actor=operator)

    ticket.refresh_from_db()
    assert ticket.first_contact_resolution
    assert ticket.status == Ticket.Status.RESOLVED


def test_no_answer_keeps_the_entry_open_and_brings_it_up_again_later(queue, operator):
    callback = _request(new_ticket(queue))

    callback = callback_record_outcome(callback=callback, outcome="no_answer", actor=operator)

    assert callback.is_open and callback.attempts == 1
    assert callback.due_at >= timezone.now() + timedelta(minutes=29)


def test_after_max_failed_attempts_the_entry_closes_and_the_citizen_is_mailed(
    queue, operator, settings
):
    settings.CALLBACK_MAX_ATTEMPTS = 3
    ticket = new_ticket(queue, email="maria@example.com")
    callback = _request(ticket)

    for outcome in ("no_answer", "busy", "no_answer"):
        callback = callback_record_outcome(callback=callback, outcome=outcome, actor=operator)

    assert callback.closed_at is not None and callback.attempts == 3
    mail = Notification.objects.get(template="callback_failed")
    assert mail.recipient == "maria@example.com" and mail.reference == ticket.reference
    assert ticket.events.filter(kind=TicketEvent.Kind.CALLBACK).count() == 4


def test_failed_callback_mails_nobody_when_the_ticket_has_no_email(queue, operator, settings):
    settings.CALLBACK_MAX_ATTEMPTS = 1
    callback = _request(new_ticket(queue, email="", phone="+79123456789"))

    callback = callback_record_outcome(callback=callback, outcome="busy", actor=operator)

    assert callback.closed_at is not None
    assert not Notification.objects.filter(template="callback_failed").exists()


def test_wrong_number_closes_the_entry_at_once(queue, operator):
    callback = _request(new_ticket(queue))

    callback = callback_record_outcome(callback=callback, outcome="wrong_number", actor=operator)

    assert callback.closed_at is not None and callback.attempts == 1
    assert Notification.objects.filter(template="callback_failed").count() == 1


def test_an_outcome_on_a_closed_entry_is_refused(queue, operator):
    callback = _request(new_ticket(queue))
    callback_record_outcome(callback=callback, outcome="reached", actor=operator)

    with pytest.raises(ValidationError):
        callback_record_outcome(callback=callback, outcome="busy", actor=operator)


def test_missed_call_opens_a_phone_ticket_with_a_callback(queue):
    callback = callback_for_missed_call(phone="8 912 345-67-89", queue=queue)

    ticket = callback.ticket
    assert ticket.channel == Ticket.Channel.PHONE and ticket.queue == queue
    assert callback.source == "missed_call" and callback.phone == "+79123456789"
    assert ticket.requester.phone == "+79123456789"


def test_missed_call_joins_the_callers_open_ticket(queue):
    ticket = new_ticket(queue, email="", phone="+79123456789")

    callback = callback_for_missed_call(phone="79123456789", queue=queue)

    assert callback.ticket == ticket


def test_missed_calls_from_one_number_make_one_callback_a_day(queue):
    first = callback_for_missed_call(phone="+79123456789", queue=queue)
    second = callback_for_missed_call(phone="+7 912 3456789", queue=queue)

    assert first.pk == second.pk
    assert CallbackRequest.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_missed_call_from_an_anonymous_number_makes_no_callback(queue):
    assert callback_for_missed_call(phone="anonymous", queue=queue) is None
    assert not CallbackRequest.objects.exists()


# --- Recording an attempt for a caller that retries (the API) -------------------------


def test_record_attempt_records_the_next_attempt_through_the_outcome_service(queue, operator):
    callback = _request(new_ticket(queue))

    callback, replayed = callback_record_attempt(
        callback=callback, attempt=1, outcome="no_answer", actor=operator
    )

    assert not replayed and callback.attempts == 1 and callback.outcome == "no_answer"


def test_record_attempt_sent_again_changes_nothing(queue, operator):
    callback = _request(new_ticket(queue))
    callback_record_attempt(callback=callback, attempt=1, outcome="busy", actor=operator, note="x")

    callback, replayed = callback_record_attempt(
        callback=callback, attempt=1, outcome="busy", actor=operator, note="x"
    )

    assert replayed and callback.attempts == 1
    assert callback.ticket.messages.filter(is_internal=True).count() == 1


@pytest.mark.parametrize(("attempt", "outcome"), [(1, "reached"), (3, "busy"), (0, "busy")])
def test_record_attempt_refuses_a_number_that_is_not_the_next(queue, operator, attempt, outcome):
    callback = _request(new_ticket(queue))
    callback_record_attempt(callback=callback, attempt=1, outcome="busy", actor=operator)

    with pytest.raises(CallbackAttemptConflict):
        callback_record_attempt(callback=callback, attempt=attempt, outcome=outcome, actor=operator)

    assert CallbackRequest.objects.get(pk=callback.pk).attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_attempt_sent_twice_at_once_is_counted_once(queue, operator):
    callback = _request(new_ticket(queue))
    barrier = threading.Barrier(2)

    def send(_) -> bool:
        try:
            barrier.wait(timeout=10)
            _entry, replayed = callback_record_attempt(
                callback=callback, attempt=1, outcome="no_answer", actor=operator, note="n"
            )
            return replayed
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(send, range(2)))

    assert sorted(results) == [False, True]  # one recorded, one replayed
    assert CallbackRequest.objects.get(pk=callback.pk).attempts == 1
    assert callback.ticket.messages.filter(is_internal=True).count() == 1
