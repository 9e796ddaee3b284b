"""Writes for the live chat: start, routing, transfer, end, rating, availability, transcript.

Lines and files are stored by `chat.lines`.

Every line is a ticket Message with its history entry (regulation 7: the transcript is
on the ticket), written by the short path below or by `tickets.services`. Live pushes go
to channel-layer groups after commit:

- ``ticket.<id>``            lines (the ticket's message events)
- ``chat.session.<id>``      state, typing, delivered receipts, files of one chat
- ``chat.waiting``           "the waiting line changed", for waiting citizens
- ``chat.operators``         "the waiting line changed", for every operator console
- ``chat.operator.<user>``   chats given to or taken from one operator
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import access, selectors
from chat.models import ChatSession, OperatorPresence
from chat.selectors import operator_public_name, session_summary
from notifications.models import Notification
from notifications.services import notification_enqueue
from tickets.citizen_time import citizen_datetime_in, queue_time_zone
from tickets.models import CallbackRequest, Message, Queue, Ticket, TicketEvent
from tickets.notify import queue_sender
from tickets.selectors import ticket_find_for_requester
from tickets.services import (
    ANONYMISED_NAME,
    CallbackWish,
    TicketClosedError,
    callback_request,
    contact_get_or_create,
    event_record,
    message_add_from_requester,
    ticket_assign,
    ticket_continue_in_new,
    ticket_create,
    ticket_escalate,
)

logger = logging.getLogger(__name__)

WAITING_GROUP = "chat.waiting"
OPERATORS_GROUP = "chat.operators"


def session_group(session_id: int) -> str:
    return f"chat.session.{session_id}"


def operator_group(user_id: int) -> str:
    return f"chat.operator.{user_id}"


class ChatError(Exception):
    """A chat action that cannot be done now (ended chat, no free slot, not yours)."""

    def __init__(self, code: str, message: str = ""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code


# --- live pushes ------------------------------------------------------------------


def _send_now(group: str, payload: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, payload)
    except Exception:  # noqa: BLE001 - a live push is best effort; the data is saved
        logger.warning("could not push %s to %s", payload.get("type"), group, exc_info=True)


def _push(group: str, payload: dict) -> None:
    """Send to a group once the current transaction commits (never a rolled-back change)."""
    transaction.on_commit(lambda: _send_now(group, payload))


def _state_payload(session: ChatSession, *, reason: str = "") -> dict:
    return {
        "type": "chat.state",
        "session": session.pk,
        "status": session.status,
        "number": session.ticket.reference,
        "operator": operator_public_name(session.operator),
        "reason": reason,
    }


def queue_broadcast() -> None:
    """After commit, tell waiting citizens and consoles that the waiting line changed.

    The events carry nothing: each process reads the line once for all its sockets and
    at most a few times a second (chat.consumers), however many chats start at once.
    Sending the list itself to every console on every change made a burst of starts a
    flood (chats x consoles copies of a 100-entry list) that delayed every line behind it.
    """

    def send() -> None:
        _send_now(WAITING_GROUP, {"type": "chat.queue.changed"})
        _send_now(OPERATORS_GROUP, {"type": "console.queue.changed"})

    transaction.on_commit(send)


# --- start ------------------------------------------------------------------------


@transaction.atomic
def chat_start(
    *,
    queue: Queue,
    full_name: str,
    text: str,
    email: str = "",
    phone: str = "",
    number: str = "",
    language: str = "ru",
    callback: CallbackWish | None = None,
) -> ChatSession:
    """Open a chat on a ticket at once: a new one, or the citizen's existing appeal.

    An existing number attaches only when the e-mail or phone matches its requester.
    Joining gives the chat, not the appeal: the chat shows only what is said in it, and
    its transcript goes to the e-mail given here, never with the appeal's private link
    unless that e-mail is the requester's own.
    With no operator available the chat is left as a message: an ordinary ticket with
    the usual auto-reply (status OFFLINE); otherwise the session waits for routing.
    With a `callback` («Перезвоните мне», online or not) the citizen asked to be called
    rather than to wait: the chat is left as a message and the ticket joins the
    call-back list (`tickets.services.callback_request`, as from the appeal form).
    """
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Please write your question.")})
    email = (email or "").strip().lower()
    existing = None
    if number:
        existing = ticket_find_for_requester(number, email) or ticket_find_for_requester(
            number, phone
        )
        if existing is None:
            raise ValidationError(
                {"number": _("No appeal with this number was found for this e-mail or phone.")},
                code="number_mismatch",
            )
    online = callback is None and selectors.operators_available().exists()
    message = None
    if existing is not None:
        try:
            message = message_add_from_requester(
                ticket=existing, text=text, channel=Ticket.Channel.CHAT
            )
            ticket = existing
        except TicketClosedError:
            ticket = ticket_continue_in_new(ticket=existing, text=text, channel=Ticket.Channel.CHAT)
        queue = ticket.queue
    else:
        requester = contact_get_or_create(full_name=full_name, email=email, phone=phone)
        ticket = ticket_create(
            queue=queue,
            requester=requester,
            channel=Ticket.Channel.CHAT,
            subject=text.splitlines()[0][:120],
            text=text,
            language=language,
            # The confirmation with the number goes out as on every channel (when the
            # citizen gave an e-mail), online or not: the chat window is easily lost.
        )
    if message is None:
        message = ticket.messages.order_by("id").first()
    now = timezone.now()
    session = ChatSession.objects.create(
        ticket=ticket,
        queue=queue,
        status=ChatSession.Status.WAITING if online else ChatSession.Status.OFFLINE,
        citizen_name=full_name.strip()[:255],
        email=email,
        language=language,
        started_at=now,
        ended_at=None if online else now,
        first_message_id=message.pk if message else None,
    )
    if callback is not None:
        callback_request(ticket=ticket, wish=callback, source=CallbackRequest.Source.CHAT)
    if online:
        queue_broadcast()
        transaction.on_commit(chat_route)
    return session


# --- routing ----------------------------------------------------------------------


def _assign(session: ChatSession, presence: OperatorPresence) -> None:
    """Give a locked waiting session to an operator. Inside the caller's transaction."""
    user = presence.user
    session.status = ChatSession.Status.ACTIVE
    session.operator = user
    session.accepted_at = timezone.now()
    session.save(update_fields=["status", "operator", "accepted_at"])
    # The router and console already checked the queue (chat_queues_for).
    ticket_assign(ticket=session.ticket, assignee=user, actor=user, check_assignee=False)
    _push(session_group(session.pk), _state_payload(session))
    _push(operator_group(user.pk), {"type": "console.assigned", "chat": session_summary(session)})


# Any number for pg_advisory_xact_lock, the same in every process ("Chat").
ROUTING_LOCK_KEY = 0x43686174


def chat_route() -> list[ChatSession]:
    """Give waiting chats, oldest first, to the available operator with the fewest chats.

    Safe to run in several processes at once. Routing passes take turns (a transaction
    advisory lock on PostgreSQL; SQLite serialises writers anyway), and a pass waits for
    a waiting chat's row lock rather than skipping the row: with SKIP LOCKED a pass
    triggered by a freed slot or an operator coming online skipped the chat another pass
    (or a line being stored) held at that moment, the other pass found no slot, and the
    chat stayed unrouted until the next trigger. Each pass sees what the passes before it
    committed, so the trigger that follows a change always routes what it made possible.
    The presence row is locked while the operator's load is recounted (chat_accept does
    the same), so nobody gets more than `max_chats`. Does nothing when CHAT_ROUTING is
    "manual".
    """
    if settings.CHAT_ROUTING != "auto":
        return []
    assigned = []
    while True:
        with transaction.atomic():
            _routing_lock()
            session = _lock_oldest_waiting()
            if session is None:
                break
            presence = _lock_free_operator(session)
            if presence is None:
                break
            _assign(session, presence)
            assigned.append(session)
    if assigned:
        queue_broadcast()  # not in a transaction: sends at once
    return assigned


def _routing_lock() -> None:
    """Routing passes take turns until their transaction ends. Call inside it."""
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROUTING_LOCK_KEY])


def _lock_oldest_waiting() -> ChatSession | None:
    """The oldest waiting chat, its row locked; None when nobody waits."""
    while True:
        pk = (
            ChatSession.objects.filter(status=ChatSession.Status.WAITING)
            .order_by("started_at", "id")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is None:
            return None
        session = (
            ChatSession.objects.select_for_update(of=("self",))
            .select_related("ticket", "queue", "ticket__requester")
            .filter(pk=pk, status=ChatSession.Status.WAITING)
            .first()
        )
        if session is not None:
            return session
        # Accepted or ended while we waited for its lock: take the next one.


def _lock_free_operator(session: ChatSession) -> OperatorPresence | None:
    for candidate in selectors.operator_candidates(session)[:20]:
        presence = (
            OperatorPresence.objects.select_for_update().select_related("user").get(pk=candidate.pk)
        )
        if selectors.operator_active_count(presence.user) < presence.max_chats:
            return presence
    return None


@transaction.atomic
def chat_accept(*, session_id: int, operator) -> ChatSession:
    """An operator takes a waiting chat from the console (manual mode, or jumping in).

    Taking a chat makes the operator the ticket's assignee, which opens the ticket to
    them: only a chat operator of the chat's queue may (`chat.access`). Pass the user as
    freshly read from the database: permissions are cached per instance.
    """
    presence = presence_get(user=operator, lock=True)
    session = _lock_session(session_id)
    if not access.operator_may_take(operator, session.queue_id):
        raise ChatError("forbidden", _("This chat belongs to a queue you do not work."))
    if session.status != ChatSession.Status.WAITING:
        raise ChatError("taken", _("This chat has already been taken."))
    if selectors.operator_active_count(operator) >= presence.max_chats:
        raise ChatError("full", _("You already have as many chats as you can take."))
    presence.user = operator
    _assign(session, presence)
    queue_broadcast()
    return session


def _lock_session(session_id: int) -> ChatSession:
    return (
        ChatSession.objects.select_for_update(of=("self",))
        .select_related("ticket", "ticket__requester", "queue", "operator")
        .get(pk=session_id)
    )


# --- «Перезвоните мне» during a chat -----------------------------------------------


@transaction.atomic
def chat_callback_request(*, session: ChatSession, wish: CallbackWish) -> CallbackRequest:
    """The citizen asks, during a live chat, to be called back (regulation 12): the
    call-back entry goes on the chat's ticket through the tickets service (one open entry
    per ticket: asking again returns the open one and says nothing new), and the request
    is said in the chat as the citizen's line, so the operator's console shows it.

    ChatError when the chat is not live; ValidationError for a number or a window the
    call-back service refuses."""
    session = _lock_session(session.pk)
    if not session.is_live:
        raise ChatError("ended", _("This chat has ended."))
    ticket = session.ticket
    already = CallbackRequest.objects.filter(ticket=ticket, closed_at__isnull=True).exists()
    callback = callback_request(ticket=ticket, wish=wish, source=CallbackRequest.Source.CHAT)
    if already:
        return callback
    text = _("☎ Please call me back at %(phone)s") % {"phone": callback.phone}
    if callback.window:
        text += (
            f", {CallbackRequest.Day(wish.day or 'today').label} {callback.get_window_display()}"
        )
    text += "."
    if callback.reason:
        text += " " + _("About: %(reason)s") % {"reason": callback.reason}
    message_add_from_requester(ticket=ticket, text=text, channel=Ticket.Channel.CHAT)
    return callback


# --- transfer and end -------------------------------------------------------------


@transaction.atomic
def chat_transfer(
    *, session_id: int, actor, to_user=None, to_second_line: bool = False, note: str = ""
) -> ChatSession:
    """Hand a chat to another operator, or the ticket to the second line (regulation 6).

    To the second line the chat ends: the citizen is told the answer will follow under
    the ticket's number. That is an escalation like any other: `note`, what the citizen
    asks and what has been done (seed 002 §3.7), is required; without it
    `ticket_escalate` refuses (ValidationError on `note`) and the chat goes on.
    """
    session = _lock_session(session_id)
    if session.status != ChatSession.Status.ACTIVE or session.operator_id != actor.pk:
        raise ChatError("not_yours", _("This chat is not yours or has ended."))
    if to_second_line:
        ticket_escalate(ticket=session.ticket, actor=actor, note=note)
        return _end(session, actor=actor, reason="escalated")
    if (
        to_user is None
        or to_user.pk == actor.pk
        or not access.operator_may_take(to_user, session.queue_id)
    ):
        raise ChatError("bad_target", _("Choose another operator."))
    session.operator = to_user
    session.save(update_fields=["operator"])
    ticket_assign(ticket=session.ticket, assignee=to_user, actor=actor, check_assignee=False)
    _push(operator_group(actor.pk), {"type": "console.released", "session": session.pk})
    _push(
        operator_group(to_user.pk), {"type": "console.assigned", "chat": session_summary(session)}
    )
    _push(session_group(session.pk), _state_payload(session, reason="transferred"))
    return session


@transaction.atomic
def chat_end(*, session_id: int, actor=None, by_citizen: bool = False) -> ChatSession:
    session = _lock_session(session_id)
    if not session.is_live:
        return session
    if not by_citizen and (actor is None or session.operator_id not in (None, actor.pk)):
        raise ChatError("not_yours", _("This chat is not yours or has ended."))
    return _end(session, actor=actor, reason="citizen" if by_citizen else "operator")


def _end(session: ChatSession, *, actor, reason: str) -> ChatSession:
    was_waiting = session.status == ChatSession.Status.WAITING
    session.status = ChatSession.Status.ENDED
    session.ended_at = timezone.now()
    session.save(update_fields=["status", "ended_at"])
    _push(session_group(session.pk), _state_payload(session, reason=reason))
    if session.operator_id:
        _push(
            operator_group(session.operator_id),
            {"type": "console.released", "session": session.pk, "reason": reason},
        )
    if was_waiting:
        queue_broadcast()
    else:
        transaction.on_commit(chat_route)  # a slot is free
    return session


# --- rating -----------------------------------------------------------------------

RATING_COMMENT_MAX_CHARS = 1000


@transaction.atomic
def chat_rate(*, session: ChatSession, rating: int, comment: str = "") -> tuple[ChatSession, bool]:
    """The citizen's 1-5 rating of a chat that has ended (issue 20), once per chat.

    Precondition: `session` is the one the citizen's signed chat token opened
    (`selectors.access_chat_for_citizen`); no session id or ticket number from a request
    ever reaches here. Returns `(session, created)`: a second rating (a replay, a double
    click, a second tab) changes nothing and returns the first, so nothing counts twice.
    Only an ended chat that an operator took can be rated: a live one is not over, and a
    chat left as a message or abandoned in the line had nobody to rate (ChatError).
    """
    if type(rating) is not int or not 1 <= rating <= 5:
        raise ValidationError({"rating": _("Choose a rating from 1 to 5.")}, code="invalid")
    comment = comment.strip()[:RATING_COMMENT_MAX_CHARS]
    now = timezone.now()
    # One conditional UPDATE is the guarantee: of two submissions racing, whatever the
    # database, exactly one finds the rating still empty.
    rated = ChatSession.objects.filter(
        pk=session.pk,
        status=ChatSession.Status.ENDED,
        accepted_at__isnull=False,
        rating__isnull=True,
    ).update(rating=rating, rating_comment=comment, rated_at=now)
    session = ChatSession.objects.select_related("ticket", "operator").get(pk=session.pk)
    if not rated:
        if session.rating is not None:
            return session, False
        if session.is_live:
            raise ChatError("not_ended", _("The chat can be rated once it has ended."))
        raise ChatError("not_rateable", _("This chat had no operator to rate."))
    # What the citizen said goes on the ticket's history like everything else (rule 7).
    event_record(
        ticket=session.ticket,
        kind=TicketEvent.Kind.SATISFACTION,
        actor_label=session.citizen_name or session.ticket.requester.full_name or "requester",
        field="chat_rating",
        new_value=f"{rating}/5",
        note=comment,
    )
    return session, True


# --- availability -----------------------------------------------------------------


def presence_get(*, user, lock: bool = False) -> OperatorPresence:
    queryset = OperatorPresence.objects.select_for_update() if lock else OperatorPresence.objects
    presence, _created = queryset.get_or_create(user=user)
    return presence


@transaction.atomic
def presence_set(
    *, user, availability: str | None = None, max_chats: int | None = None
) -> OperatorPresence:
    """Set an operator's availability (and limit); going online picks up waiting chats."""
    presence = presence_get(user=user, lock=True)
    fields = ["last_seen"]
    presence.last_seen = timezone.now()
    if availability is not None:
        if availability not in OperatorPresence.Availability.values:
            raise ChatError("bad_availability")
        presence.availability = availability
        fields.append("availability")
    if max_chats is not None:
        presence.max_chats = max(1, min(int(max_chats), 20))
        fields.append("max_chats")
    presence.save(update_fields=fields)
    queue_broadcast()  # the estimate depends on who is online
    if presence.availability == OperatorPresence.Availability.ONLINE:
        transaction.on_commit(chat_route)
    return presence


def presence_touch(*, user) -> None:
    """The console's heartbeat: the operator is still there.

    Also re-runs routing when chats wait and this operator has a free slot: a routing
    pass that lost a race for the last free slots (several processes routing at once)
    leaves chats waiting until the next trigger, and the heartbeat of the operator with
    the slot is the one trigger that always comes. Operators without a slot do not route:
    on a busy line (every operator full, chats waiting) each heartbeat ran a pass, the
    passes take turns on one lock, and the consoles that connected together (a restart)
    beat together: 100 passes queued at once held every pool thread and delayed every
    chat line by up to a second.
    """
    OperatorPresence.objects.filter(user=user).update(last_seen=timezone.now())
    if not ChatSession.objects.filter(status=ChatSession.Status.WAITING).exists():
        return
    mine = selectors.operators_with_load(selectors.operators_available().filter(user=user))
    if mine.filter(active_chats__lt=F("max_chats")).exists():
        chat_route()


# --- transcript -------------------------------------------------------------------


def transcript_recipient(session: ChatSession) -> str:
    """Where a chat's transcript may go: the e-mail given when it started, or nowhere.

    Never an address typed later: a free address field let anyone mail any text from
    our official address (the citizen's lines are in the transcript).
    """
    return session.email


@transaction.atomic
def chat_transcript_send(*, session: ChatSession) -> Notification:
    """Mail the conversation to the e-mail given at the start of the chat (asked for in
    the widget when the chat ends). ValidationError when the chat has no e-mail."""
    email = transcript_recipient(session)
    if not email:
        raise ValidationError(_("No e-mail was given when this chat started."), code="no_email")
    zone = queue_time_zone(session.ticket.queue)
    lines = [
        {
            "author": line["author"]
            or (_("You") if line["author_kind"] == Message.Author.REQUESTER else _("Operator")),
            "text": line["text"],
            "time": timezone.datetime.fromisoformat(line["created_at"])
            .astimezone(zone)
            .strftime("%H:%M"),
            "files": ", ".join(f["name"] for f in line["files"]),
        }
        for line in selectors.session_lines(session)
    ]
    ticket = session.ticket
    # The private link goes only to the requester's own address: a chat joined with the
    # number and a phone may have given another e-mail.
    owner = bool(ticket.requester.email) and ticket.requester.email.lower() == email
    return notification_enqueue(
        recipient=email,
        template="chat_transcript",
        kind=Notification.Kind.NOTICE,
        idempotency_key=f"chat:{session.pk}:transcript:{len(lines)}",
        context={
            "number": ticket.reference,
            "name": session.citizen_name or ticket.requester.full_name,
            "date": citizen_datetime_in(
                session.started_at, queue=ticket.queue, language=session.language
            ),
            "lines": lines,
            "status_url": f"{settings.SITE_URL}{ticket.get_status_url()}" if owner else "",
        },
        language=session.language,
        reference=ticket.reference,
        from_email=queue_sender(ticket.queue, session.language),
    )


# --- retention --------------------------------------------------------------------


def chat_sessions_anonymise(*, ticket_ids: list[int]) -> int:
    """Erase the name, e-mail and rating comment chat sessions keep of a requester being
    anonymised (`tickets.services.retention` calls it; registered in `ChatConfig.ready`)."""
    return (
        ChatSession.objects.filter(ticket_id__in=ticket_ids)
        .exclude(citizen_name=ANONYMISED_NAME, email="", rating_comment="")
        .update(citizen_name=ANONYMISED_NAME, email="", rating_comment="")
    )
