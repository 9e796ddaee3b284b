"""CTI events → the call log, and a missed inbound call → a call-back entry.

One entry point for every source of events (the webhook and the AMI bridge):
`cti_event_record`. Idempotent per call id and event: the first newCall, answer and
hangup of a call count, repeats change nothing.
"""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from telephony.events import CtiEvent
from telephony.models import CallRecord, OperatorPhone
from telephony.pop import screen_pop_publish
from tickets.models import Queue, Ticket
from tickets.services import callback_for_missed_call
from tickets.validators import phone_e164


def _number(value: str) -> str:
    """E.164 for phone numbers, the raw value for extensions and "anonymous"."""
    return phone_e164(value) or value[:64]


def operator_for_event(event: CtiEvent):
    """The staff member an event names: their extension in `answeringNumber` (or
    `user`), else a staff username in `user`. None when nobody matches."""
    for extension in (event.answering_number, event.user):
        if extension:
            phone = OperatorPhone.objects.select_related("user").filter(extension=extension).first()
            if phone is not None and phone.user.is_active:
                return phone.user
    if event.user:
        return (
            get_user_model()
            .objects.filter(username=event.user, is_staff=True, is_active=True)
            .first()
        )
    return None


def _queue_for(label: str) -> Queue | None:
    """The CTI `queue` as a queue slug, when it is one (missed calls land there)."""
    if not label:
        return None
    return Queue.objects.filter(slug=label, is_active=True).first()


def _record_locked(event: CtiEvent, at: datetime) -> CallRecord:
    record = CallRecord.objects.select_for_update().filter(call_id=event.call_id).first()
    if record is not None:
        return record
    try:
        with transaction.atomic():
            return CallRecord.objects.create(
                call_id=event.call_id,
                direction=event.direction or CallRecord.Direction.IN,
                from_number=_number(event.from_number),
                to_number=_number(event.to_number),
                user_label=event.user,
                queue_label=event.queue,
                ring_at=at,
            )
    except IntegrityError:
        # The same call's other event created it meanwhile.
        return CallRecord.objects.select_for_update().get(call_id=event.call_id)


@transaction.atomic
def cti_event_record(*, event: CtiEvent, at: datetime | None = None) -> CallRecord:
    """Apply one CTI event to its call's record, holding the record's row lock.

    A hangup of an inbound call nobody answered (busy, no answer, the caller gave up)
    puts the caller on the call-back list: `callback_for_missed_call` keeps it to one
    entry per number and day, on their open ticket or a new phone ticket.
    """
    at = at or timezone.now()
    record = _record_locked(event, at)
    changed: list[str] = []
    if event.event == "newCall" and record.rang_for_id is None and record.end_at is None:
        rang_for = operator_for_event(event)
        if rang_for is not None:
            record.rang_for = rang_for
            changed.append("rang_for")
            screen_pop_publish(record=record, user_id=rang_for.pk, event="newCall")
    elif event.event == "answer" and record.answer_at is None and record.end_at is None:
        record.answer_at = at
        record.wait_seconds = max(0, int((at - record.ring_at).total_seconds()))
        record.operator = operator_for_event(event)
        record.user_label = event.user or event.answering_number or record.user_label
        changed += ["answer_at", "wait_seconds", "operator", "user_label"]
        if record.operator is not None:
            screen_pop_publish(record=record, user_id=record.operator.pk, event="answer")
    elif event.event == "hangup" and record.end_at is None:
        record.end_at = at
        record.cause = event.cause
        changed += ["end_at", "cause"]
        if record.answer_at is not None:
            record.talk_seconds = max(0, int((at - record.answer_at).total_seconds()))
            changed.append("talk_seconds")
        else:
            record.wait_seconds = max(0, int((at - record.ring_at).total_seconds()))
            changed.append("wait_seconds")
            if record.direction == CallRecord.Direction.IN:
                record.missed = True
                changed.append("missed")
                callback = callback_for_missed_call(
                    phone=record.from_number, queue=_queue_for(record.queue_label), at=at
                )
                if callback is not None:
                    record.callback, record.ticket = callback, callback.ticket
                    changed += ["callback", "ticket"]
    if changed:
        record.save(update_fields=changed)
    return record


def calls_anonymise(*, ticket_ids: list[int]) -> int:
    """Retention (regulation 10): the numbers in the calls of these tickets and of their
    requesters' numbers go. Registered with tickets' retention; runs before the contact's
    own phone is erased."""
    phones = {
        phone
        for phone in Ticket.objects.filter(pk__in=ticket_ids).values_list(
            "requester__phone", flat=True
        )
        if phone
    }
    condition = Q(ticket_id__in=ticket_ids)
    if phones:
        condition |= Q(from_number__in=phones) | Q(to_number__in=phones)
    return CallRecord.objects.filter(condition).update(from_number="", to_number="")
