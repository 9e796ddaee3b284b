"""Call-backs (regulation 12): a citizen asks to be called back instead of waiting on
the line, or a missed call is turned into a call-back; operators record each attempt.

Every step lands in the ticket's history. The due time is `CALLBACK_TARGET_HOURS`
plain clock hours after the request (there is no business calendar to count working
hours in), moved into the citizen's preferred window when they chose one.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import notify
from tickets.business_time import AROUND_THE_CLOCK, AroundTheClock, CalendarTime, working_time
from tickets.citizen_time import queue_time_zone
from tickets.models import CallbackRequest, Contact, Queue, Ticket, TicketEvent
from tickets.services.calls import ticket_mark_first_contact_resolution
from tickets.services.contacts import contact_get_or_create
from tickets.services.creation import ticket_create
from tickets.services.history import event_record
from tickets.services.messages import message_add_reply
from tickets.validators import normalize_phone, phone_e164

# After a failed attempt (no answer, busy) the entry comes up again this much later.
RETRY_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class CallbackWish:
    """What the citizen asked for: a number, and optionally a day, a time and a reason."""

    phone: str
    day: str = ""
    window: str = ""
    reason: str = ""


def callback_window_bounds(
    *, day: str, window: str, now: datetime | None = None, tz: tzinfo | None = None
) -> tuple[datetime, datetime] | None:
    """The [start, end) of "today/tomorrow × morning/afternoon/evening" in `tz` (the
    queue's time zone: "morning" is the citizen's morning; TIME_ZONE without one), or
    None when no window was chosen."""
    if not day or not window:
        return None
    tz = tz or timezone.get_current_timezone()
    now = timezone.localtime(now or timezone.now(), tz)
    on: date = now.date() + timedelta(days=1 if day == CallbackRequest.Day.TOMORROW else 0)
    start_hour, end_hour = CallbackRequest.WINDOW_HOURS[window]
    return (
        timezone.make_aware(datetime.combine(on, time(start_hour)), tz),
        timezone.make_aware(datetime.combine(on, time(end_hour)), tz),
    )


def callback_window_passed(
    *, day: str, window: str, now: datetime | None = None, tz: tzinfo | None = None
) -> bool:
    """True when the chosen window has already ended (today's morning in the afternoon)."""
    bounds = callback_window_bounds(day=day, window=window, now=now, tz=tz)
    return bounds is not None and bounds[1] <= (now or timezone.now())


def callback_due_at(
    *,
    now: datetime,
    bounds: tuple[datetime, datetime] | None,
    clock: AroundTheClock | CalendarTime = AROUND_THE_CLOCK,
) -> datetime:
    """`CALLBACK_TARGET_HOURS` of working time (the queue's clock) after the request; in
    a chosen window, from its start (or now) and at the latest by its end."""
    target = timedelta(hours=settings.CALLBACK_TARGET_HOURS)
    if bounds is None:
        return clock.add(now, target)
    start, end = bounds
    return min(clock.add(max(now, start), target), end)


def _window_text(callback: CallbackRequest) -> str:
    if not callback.window or callback.window_date is None:
        return ""
    return f"{callback.window_date:%d.%m.%Y} {callback.get_window_display()}"


@transaction.atomic
def callback_request(
    *,
    ticket: Ticket,
    wish: CallbackWish,
    source: str,
    actor=None,
) -> CallbackRequest:
    """Put the ticket on the call-back list. One open entry per ticket: asking again
    while one is open returns it unchanged (a reload, a double click, a bored visitor).

    The number is kept on the entry only; the requester's contact is not changed by it.
    """
    phone = normalize_phone(wish.phone)
    if not phone_e164(phone):
        raise ValidationError({"phone": _("Enter the phone number to call back.")})
    if wish.window and wish.window not in CallbackRequest.Window.values:
        raise ValidationError({"window": _("Choose a time to call.")})
    existing = (
        CallbackRequest.objects.select_for_update()
        .filter(ticket=ticket, closed_at__isnull=True)
        .first()
    )
    if existing is not None:
        return existing
    now = timezone.now()
    bounds = callback_window_bounds(
        day=wish.day, window=wish.window, now=now, tz=queue_time_zone(ticket.queue)
    )
    if bounds is not None and bounds[1] <= now:
        raise ValidationError({"window": _("This time has already passed: choose another.")})
    callback = CallbackRequest.objects.create(
        ticket=ticket,
        phone=phone,
        source=source,
        window_date=bounds[0].date() if bounds else None,  # the day in the queue's zone
        window=wish.window if bounds else "",
        reason=(wish.reason or "").strip()[:500],
        due_at=callback_due_at(now=now, bounds=bounds, clock=working_time(ticket.queue)),
        created_at=now,
    )
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.CALLBACK,
        actor=actor,
        actor_label="" if actor else ticket.requester.full_name,
        field="callback",
        new_value="requested",
        note=" · ".join(
            str(part)
            for part in (
                CallbackRequest.Source(source).label,
                _window_text(callback),
                callback.reason,
            )
            if part
        ),
    )
    return callback


@transaction.atomic
def callback_record_outcome(
    *, callback: CallbackRequest, outcome: str, actor, note: str = ""
) -> CallbackRequest:
    """One call attempt and what came of it.

    Reached closes the entry ("solved during the call" also resolves the ticket as
    first-contact resolution); a wrong number closes it at once; no answer / busy count
    as failed attempts: after `CALLBACK_MAX_ATTEMPTS` of them the entry closes and the
    citizen, if the ticket has an e-mail, is told by mail. Otherwise it comes up again
    `RETRY_AFTER` later. The note, if any, becomes an internal note on the ticket.
    """
    if outcome not in CallbackRequest.Outcome.values:
        raise ValidationError({"outcome": _("Choose what came of the call.")})
    callback = (
        CallbackRequest.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__requester", "ticket__queue")
        .get(pk=callback.pk)
    )
    if not callback.is_open:
        raise ValidationError(_("This call-back is already closed."), code="closed")
    now = timezone.now()
    callback.attempts += 1
    callback.outcome = outcome
    callback.last_attempt_at = now
    callback.last_attempt_by = actor
    failed = outcome in CallbackRequest.FAILED_OUTCOMES
    gave_up = outcome == CallbackRequest.Outcome.WRONG_NUMBER or (
        failed and callback.attempts >= settings.CALLBACK_MAX_ATTEMPTS
    )
    if not failed or gave_up:
        callback.closed_at = now
    else:
        callback.due_at = max(callback.due_at, now + RETRY_AFTER)
    callback.save(
        update_fields=[
            "attempts",
            "outcome",
            "last_attempt_at",
            "last_attempt_by",
            "closed_at",
            "due_at",
        ]
    )
    ticket = callback.ticket
    label = CallbackRequest.Outcome(outcome).label
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.CALLBACK,
        actor=actor,
        field="callback",
        old_value=_("attempt %(n)s") % {"n": callback.attempts},
        new_value=outcome,
        note=_("call-back closed") if callback.closed_at else "",
    )
    if (note or "").strip():
        message_add_reply(
            ticket=ticket,
            author=actor,
            text=f"☎ {label}: {note.strip()}",
            is_internal=True,
        )
    if outcome == CallbackRequest.Outcome.REACHED_SOLVED:
        ticket_mark_first_contact_resolution(ticket=ticket, actor=actor)
    if gave_up:
        notify.callback_failed(callback=callback)
    return callback


class CallbackAttemptConflict(ValidationError):
    """The attempt a caller meant to record is not the entry's next one (someone else
    recorded it, it was closed meanwhile, or the number is made up)."""


@transaction.atomic
def callback_record_attempt(
    *,
    callback: CallbackRequest,
    attempt: int,
    outcome: str,
    actor: AbstractBaseUser,
    note: str = "",
) -> tuple[CallbackRequest, bool]:
    """`callback_record_outcome` for a caller that retries (the API): `attempt` numbers
    the call being recorded, the entry's `attempts` + 1 as the caller last read it.

    The same attempt sent again (a retry after a lost answer) with the same outcome by
    the same person records nothing and returns `(entry, True)`; a fresh one is recorded
    and returns `(entry, False)`. Any other number, a replay with another outcome or by
    someone else, or a closed entry raise `CallbackAttemptConflict`: nothing is counted
    twice and nobody's attempt is overwritten.
    """
    locked = CallbackRequest.objects.select_for_update(of=("self",)).get(pk=callback.pk)
    if (
        attempt == locked.attempts > 0
        and locked.outcome == outcome
        and locked.last_attempt_by_id == getattr(actor, "pk", None)
    ):
        return locked, True
    if not locked.is_open:
        raise CallbackAttemptConflict(_("This call-back is already closed."), code="closed")
    if attempt != locked.attempts + 1:
        raise CallbackAttemptConflict(
            _("Attempt %(given)s does not follow the %(done)s recorded: read the call-back again.")
            % {"given": attempt, "done": locked.attempts},
            code="attempt_conflict",
        )
    return callback_record_outcome(callback=locked, outcome=outcome, actor=actor, note=note), False


def _ticket_for_missed_call(*, phone: str, queue: Queue | None, at: datetime) -> Ticket:
    """The caller's newest open ticket (any contact with this number: the entry only
    tells staff whom to call, nothing reaches the caller), or a new phone ticket."""
    ticket = (
        Ticket.objects.filter(
            requester__in=Contact.objects.filter(phone=phone).values("pk"),
            status__in=[Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.PENDING],
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if ticket is not None:
        return ticket
    queue = queue or Queue.objects.filter(is_active=True).order_by("position", "name").first()
    if queue is None:
        raise ValidationError(_("There is no active queue for a new phone ticket."))
    # No number in the name or the text: staff without the personal-data permission see
    # the contact's phone masked, and these would show it in full.
    requester = contact_get_or_create(full_name=_("Unknown caller"), phone=phone)
    when = timezone.localtime(at).strftime("%d.%m.%Y %H:%M")
    return ticket_create(
        queue=queue,
        requester=requester,
        channel=Ticket.Channel.PHONE,
        subject=_("Missed call"),
        text=_("Missed call at %(when)s.") % {"when": when},
        auto_reply=False,
    )


def callback_for_missed_call(
    *, phone: str, queue: Queue | None = None, at: datetime | None = None
) -> CallbackRequest | None:
    """A missed or abandoned inbound call becomes a call-back entry: one per number and
    local day (a unique constraint keeps it so under concurrent events), on the caller's
    open ticket or a new phone ticket. None for an unusable caller id (anonymous)."""
    phone = phone_e164(phone)
    if not phone:
        return None
    at = at or timezone.now()
    day = timezone.localtime(at).date()
    existing = CallbackRequest.objects.filter(phone=phone, missed_on=day).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            ticket = _ticket_for_missed_call(phone=phone, queue=queue, at=at)
            already = ticket.callbacks.filter(closed_at__isnull=True).first()
            if already is not None:
                return already  # the caller is on the list already
            callback = CallbackRequest.objects.create(
                ticket=ticket,
                phone=phone,
                source=CallbackRequest.Source.MISSED_CALL,
                due_at=callback_due_at(now=at, bounds=None, clock=working_time(ticket.queue)),
                missed_on=day,
                created_at=at,
            )
            event_record(
                ticket=ticket,
                kind=TicketEvent.Kind.CALLBACK,
                field="callback",
                actor_label=_("telephony"),
                new_value="requested",
                note=str(CallbackRequest.Source.MISSED_CALL.label),
            )
    except IntegrityError:
        # Another event for the same number won the race: its entry stands.
        return CallbackRequest.objects.filter(phone=phone, missed_on=day).first()
    return callback
