"""Chat lines: what the citizen and the operator say, and files, stored as they are said.

The hot path of the chat (hundreds of sockets, each with a line every few seconds).
Pushes go to the groups described in `chat.services`.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from chat import selectors
from chat.models import ChatSession
from chat.services import ChatError, _lock_session, _push, session_group
from tickets.events import ticket_event_publish
from tickets.models import Message, Ticket, TicketEvent
from tickets.services import (
    TicketClosedError,
    attachments_validate,
    message_add_from_requester,
    message_add_reply,
)
from tickets.services.history import event_record


def _check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ChatError("empty", _("The message is empty."))
    if len(text) > settings.CHAT_MESSAGE_MAX_CHARS:
        raise ChatError(
            "too_long",
            _("The message is too long: at most %(n)s characters.")
            % {"n": settings.CHAT_MESSAGE_MAX_CHARS},
        )
    return text


# A line is the chat's hot path (hundreds of sockets, each with a line every few
# seconds), so it is stored in one short transaction without savepoints, and each row
# is locked once, by the statement that changes it:
#
#   UPDATE chat session SET <side>_seq = seq WHERE live AND <side>_seq < seq  (dedupe, lock)
#   UPDATE ticket SET last_activity_at WHERE no workflow step is due          (lock)
#   INSERT message; INSERT history entry; COMMIT
#
# These are the rows tickets.services writes for a line (a test pins that). When the
# ticket needs a workflow step (a pending or resolved ticket reopens, a first answer
# stops the SLA clock, a closed ticket refuses the line) the line goes through
# tickets.services instead, in the same transaction.


def _claim_seq(session_id: int, seq: int, *, operator_id: int | None = None) -> int | None:
    """Record `seq` as the side's highest stored line; the chat's ticket id, or None.

    None: the line was stored already, the chat is not live, or (for an operator) the
    chat is not theirs; the caller reads the session to tell which. Holds the session's
    row lock until commit, so the lines of one chat are stored one at a time, in order.
    """
    qn = transaction.get_connection().ops.quote_name
    if operator_id is None:
        column = "citizen_seq"
        condition = f"{qn('status')} IN (%s, %s)"
        params = [ChatSession.Status.WAITING, ChatSession.Status.ACTIVE]
    else:
        column = "operator_seq"
        condition = f"{qn('status')} = %s AND {qn('operator_id')} = %s"
        params = [ChatSession.Status.ACTIVE, operator_id]
    # Identifiers come from model metadata; every value is a query parameter.
    sql = (
        f"UPDATE {qn(ChatSession._meta.db_table)} SET {qn(column)} = %s "  # noqa: S608
        f"WHERE {qn('id')} = %s AND {qn(column)} < %s AND {condition} "
        f"RETURNING {qn('ticket_id')}"
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [seq, session_id, seq, *params])
        row = cursor.fetchone()
    return row[0] if row else None


def _touch_ticket(ticket_id: int, now, *, condition: str, params: list) -> Ticket | None:
    """Set the ticket's last activity when `condition` holds, taking its row lock.

    Returns a partial Ticket (id, number, status, channel; the requester's name as
    `requester_name`) to write the line against, or None when the condition fails.
    """
    qn = transaction.get_connection().ops.quote_name
    contact = Ticket._meta.get_field("requester").related_model._meta.db_table
    sql = (
        f"UPDATE {qn(Ticket._meta.db_table)} "  # noqa: S608 - identifiers from model metadata
        f"SET {qn('last_activity_at')} = %s, {qn('updated_at')} = %s "
        f"WHERE {qn('id')} = %s AND {condition} "
        f"RETURNING {qn('number')}, {qn('status')}, {qn('channel')}, "
        f"(SELECT {qn('full_name')} FROM {qn(contact)} "
        f"WHERE {qn(contact)}.{qn('id')} = {qn('requester_id')})"
    )
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(sql, [now, now, ticket_id, *params])
        row = cursor.fetchone()
    if row is None:
        return None
    ticket = Ticket(pk=ticket_id, number=row[0], status=row[1], channel=row[2])
    ticket.requester_name = row[3] or ""
    return ticket


def chat_citizen_say(*, session_id: int, seq: int, text: str) -> Message | None:
    """Store what the citizen said as a ticket message. None: `seq` was stored already.

    `seq` is the client's sequence number for the line; a line resent after a reconnect
    is recognised by it and never stored twice.
    """
    text = _check_text(text)
    with transaction.atomic():
        ticket_id = _claim_seq(session_id, seq)
        if ticket_id is None:
            status = ChatSession.objects.values_list("status", flat=True).get(pk=session_id)
            if status not in (ChatSession.Status.WAITING, ChatSession.Status.ACTIVE):
                raise ChatError("ended", _("This chat has ended."))
            return None
        now = timezone.now()
        ticket = _touch_ticket(
            ticket_id,
            now,
            condition="status IN (%s, %s)",
            params=[Ticket.Status.NEW, Ticket.Status.OPEN],
        )
        if ticket is None:  # pending, resolved or closed: the full workflow applies
            try:
                return message_add_from_requester(
                    ticket=Ticket(pk=ticket_id), text=text, channel=Ticket.Channel.CHAT
                )
            except TicketClosedError:
                raise ChatError("closed", _("This appeal is closed.")) from None
        message = Message.objects.create(
            ticket=ticket,
            author_kind=Message.Author.REQUESTER,
            channel=Ticket.Channel.CHAT,
            text=text,
            created_at=now,
        )
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.MESSAGE,
            actor_label=ticket.requester_name,
            note=Ticket.Channel.CHAT.label,
        )
        ticket_event_publish(ticket=ticket, event="message.new", message=message)
        return message


def chat_operator_say(*, session_id: int, operator, seq: int, text: str) -> Message | None:
    """Store the operator's line; no e-mail per line (the citizen reads it in the chat)."""
    text = _check_text(text)
    with transaction.atomic():
        ticket_id = _claim_seq(session_id, seq, operator_id=operator.pk)
        if ticket_id is None:
            session = ChatSession.objects.only("status", "operator").get(pk=session_id)
            if session.status != ChatSession.Status.ACTIVE or session.operator_id != operator.pk:
                raise ChatError("not_yours", _("This chat is not yours or has ended."))
            return None
        now = timezone.now()
        # Not new, answered before, assigned: a reply changes nothing but the activity.
        ticket = _touch_ticket(
            ticket_id,
            now,
            condition="status <> %s AND first_response_at IS NOT NULL AND assignee_id IS NOT NULL",
            params=[Ticket.Status.NEW],
        )
        if ticket is None:
            return message_add_reply(
                ticket=Ticket(pk=ticket_id), author=operator, text=text, notify_requester=False
            )
        message = Message.objects.create(
            ticket=ticket,
            author_kind=Message.Author.OPERATOR,
            author=operator,
            channel=ticket.channel,
            text=text,
            created_at=now,
        )
        event_record(ticket=ticket, kind=TicketEvent.Kind.MESSAGE, actor=operator)
        ticket_event_publish(ticket=ticket, event="message.new", message=message)
        return message


@transaction.atomic
def chat_files_add(
    *, session: ChatSession, files: list[UploadedFile], operator=None, text: str = ""
) -> Message:
    """Files sent in the chat (same limits as the appeal form), shown inline in it."""
    attachments_validate(files)
    session = _lock_session(session.pk)
    if not session.is_live:
        raise ChatError("ended", _("This chat has ended."))
    if operator is not None and session.operator_id != operator.pk:
        raise ChatError("not_yours", _("This chat is not yours or has ended."))
    text = (text or "").strip()[: settings.CHAT_MESSAGE_MAX_CHARS] or ", ".join(
        f.name for f in files
    )
    if operator is None:
        message = message_add_from_requester(
            ticket=session.ticket, text=text, channel=Ticket.Channel.CHAT, attachments=files
        )
    else:
        message = message_add_reply(
            ticket=session.ticket,
            author=operator,
            text=text,
            attachments=files,
            notify_requester=False,
        )
    _push(
        session_group(session.pk),
        {
            "type": "chat.files",
            "session": session.pk,
            "line": selectors.line_payload(message),
        },
    )
    return message
