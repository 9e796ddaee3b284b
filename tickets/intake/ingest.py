"""E-mail intake: the one code path behind the three doors (pipe, IMAP, webhook).

`email_ingest` stores the raw bytes first (their own commit: nothing is lost), then
parses and routes in one transaction. Any failure quarantines the stored message with
the error, for an operator to retry or turn into a ticket. It never raises.
"""

import logging
import re
import traceback
import uuid
import zlib
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.automail import auto_generated_reason
from tickets.intake.parse import ParsedEmail, clean_line, decode_bytes, message_ids, parse_email
from tickets.intake.threading import NO_MATCH, report_thread_find, thread_find
from tickets.models import InboundEmail, Mailbox, Message, Queue, Ticket, TicketEvent, TicketLink
from tickets.services import (
    attachments_add,
    contact_get_or_create,
    event_record,
    message_add_from_requester,
    ticket_continue_in_new,
    ticket_create,
    ticket_link,
)

logger = logging.getLogger(__name__)

_REPORT_SENDER = re.compile(r"^(mailer-daemon|postmaster|mail-daemon)@", re.I)


class QuarantineError(Exception):
    """An expected reason not to turn a message into a ticket by itself."""


@dataclass(frozen=True)
class IngestResult:
    # InboundEmail.Status value, or "failed": not even stored (the caller must keep it).
    status: str
    inbound_email_id: int | None = None
    ticket_id: int | None = None
    reference: str = ""
    error: str = ""

    FAILED = "failed"

    @property
    def stored(self) -> bool:
        return self.inbound_email_id is not None

    def __str__(self) -> str:
        if self.status == InboundEmail.Status.PROCESSED:
            return self.reference
        if self.status == InboundEmail.Status.QUARANTINED:
            return f"quarantined {self.inbound_email_id}"
        return self.status


def max_message_bytes() -> int:
    return getattr(settings, "EMAIL_MAX_MESSAGE_BYTES", 25 * 1024 * 1024)


def email_ingest(
    raw: bytes,
    *,
    source: str,
    mailbox: Mailbox | None = None,
    recipient: str | None = None,
) -> IngestResult:
    """Store, parse, route one message. Never raises."""
    try:
        (inbound,) = inbounds_store(raws=[raw], source=source, mailbox=mailbox, recipient=recipient)
    except Exception as exc:  # noqa: BLE001 - the caller keeps the message and retries
        logger.exception("could not store an inbound message (%s bytes)", len(raw or b""))
        return IngestResult(status=IngestResult.FAILED, error=f"{type(exc).__name__}: {exc}")
    return email_process(inbound=inbound, raw=raw)


def email_ingest_batch(
    raws: list[bytes], *, source: str, mailbox: Mailbox | None = None
) -> list[IngestResult]:
    """Many messages with few commits (IMAP polling): one commit stores them all, one
    more commits their processing, each message in its own savepoint so one failure
    quarantines that message only. Never raises; results in the order of `raws`."""
    if not raws:
        return []
    try:
        inbounds = inbounds_store(raws=raws, source=source, mailbox=mailbox)
    except Exception:  # noqa: BLE001 - try one by one: each is stored or reported failed
        logger.exception("could not store a batch of %s inbound messages", len(raws))
        return [email_ingest(raw, source=source, mailbox=mailbox) for raw in raws]
    try:
        with transaction.atomic():
            queues = _queues()  # once per batch
            return [
                email_process(inbound=inbound, raw=raw, queues=queues)
                for inbound, raw in zip(inbounds, raws, strict=True)
            ]
    except Exception:  # noqa: BLE001 - the batch commit failed: one transaction each
        logger.exception("batch of %s inbound messages rolled back; one by one", len(raws))
        return [
            email_process(inbound=InboundEmail.objects.get(pk=inbound.pk), raw=raw)
            for inbound, raw in zip(inbounds, raws, strict=True)
        ]


def inbounds_store(
    *,
    raws: list[bytes],
    source: str,
    mailbox: Mailbox | None = None,
    recipient: str | None = None,
) -> list[InboundEmail]:
    """Keep the raw bytes, whatever they are (committed on their own, in one insert)."""
    inbounds = []
    for raw in raws:
        inbound = InboundEmail(
            source=source,
            mailbox=mailbox,
            size=len(raw),
            recipient=clean_line(recipient or "", 998),
        )
        inbound.raw.save(f"{uuid.uuid4().hex}.eml", ContentFile(raw), save=False)
        inbounds.append(inbound)
    return InboundEmail.objects.bulk_create(inbounds)


def email_process(
    *,
    inbound: InboundEmail,
    raw: bytes | None = None,
    queue: Queue | None = None,
    force_new: bool = False,
    actor=None,
    queues: dict[str, Queue] | None = None,
) -> IngestResult:
    """Parse and route a stored message; quarantine it on any failure. Never raises.

    Used for the first attempt and by the operator's "retry" (`actor`) and "turn into
    ticket" (`force_new=True`, `queue`: no threading, no loop/bounce checks).
    """
    try:
        if raw is None:
            with inbound.raw.open("rb") as handle:
                raw = handle.read()
        parsed = _parse(inbound=inbound, raw=raw, force=force_new)
        with transaction.atomic():
            return _route(
                inbound=inbound,
                parsed=parsed,
                queue=queue,
                force_new=force_new,
                actor=actor,
                queues=queues,
            )
    except QuarantineError as exc:
        return _quarantine(inbound=inbound, error=str(exc), actor=actor)
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, keep it for a person
        logger.warning("inbound e-mail %s quarantined", inbound.pk, exc_info=True)
        tail = "".join(traceback.format_exception(exc)[-6:])
        return _quarantine(inbound=inbound, error=f"{type(exc).__name__}: {exc}\n\n{tail}")


def _quarantine(*, inbound: InboundEmail, error: str, actor=None) -> IngestResult:
    inbound.status = InboundEmail.Status.QUARANTINED
    inbound.error = error
    inbound.processed_at = timezone.now()
    fields = ["status", "error", "processed_at", "message_id", "sender", "subject"]
    if actor is not None:
        inbound.retried_by = actor
        fields.append("retried_by")
    try:
        inbound.save(update_fields=fields)
    except Exception:  # noqa: BLE001 - the row (and the raw file) exist: it stays "received"
        logger.exception("could not mark inbound e-mail %s quarantined", inbound.pk)
    return IngestResult(
        status=InboundEmail.Status.QUARANTINED, inbound_email_id=inbound.pk, error=error
    )


def _parse(*, inbound: InboundEmail, raw: bytes, force: bool) -> ParsedEmail:
    if len(raw) > max_message_bytes() and not force:
        raise QuarantineError(
            _("The message is %(size)s bytes; the limit is %(limit)s bytes.")
            % {"size": len(raw), "limit": max_message_bytes()}
        )
    try:
        parsed = parse_email(raw)
    except Exception:
        if not force:
            raise
        # "Turn into ticket" of something that is not a message: keep it as text.
        parsed = ParsedEmail(text=decode_bytes(raw), full_text=decode_bytes(raw))
    inbound.message_id = parsed.message_id[:998]
    inbound.sender = parsed.from_email[:998]
    inbound.subject = parsed.subject[:998]
    return parsed


def _queues() -> dict[str, Queue]:
    queues = {}
    for queue in Queue.objects.filter(is_active=True).order_by("position", "name", "id"):
        queues.setdefault((queue.email_address or "").lower(), queue)
    return queues


def _own_addresses(queues: dict[str, Queue]) -> set[str]:
    own = {address for address in queues if address}
    for value in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL):
        address = parseaddr(value or "")[1].lower()
        if address:
            own.add(address)
    return own


def queue_for(
    *, parsed: ParsedEmail, recipient: str, mailbox: Mailbox | None, queues: dict[str, Queue]
) -> Queue | None:
    """The receiving address decides; then the mailbox's queue; then the first queue."""
    envelope = [parseaddr(recipient)[1].lower()] if recipient else []
    for address in [*envelope, *parsed.delivered_to]:
        if address in queues and address:
            return queues[address]
    if mailbox is not None:
        return mailbox.queue
    for address in parsed.recipients:
        if address in queues and address:
            return queues[address]
    return next(iter(queues.values()), None)


def _lock_message_id(message_id: str) -> None:
    """Two doors delivering the same message at once: one waits for the other."""
    if message_id and connection.vendor == "postgresql":
        key = zlib.crc32(message_id.encode("utf-8", "replace"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x5E4A11, key - 2**31])


def _is_duplicate(*, inbound: InboundEmail, message_id: str) -> bool:
    if not message_id:
        return False
    return (
        InboundEmail.objects.filter(message_id=message_id, status=InboundEmail.Status.PROCESSED)
        .exclude(pk=inbound.pk)
        .exists()
    )


def _attach(*, ticket: Ticket, message: Message | None, parsed: ParsedEmail) -> None:
    if not parsed.attachments:
        return
    if message is None:  # the first message of a ticket just created
        message = Message.objects.filter(ticket=ticket).order_by("id").first()
    regular = [a for a in parsed.attachments if not a.inline]
    inline = [a for a in parsed.attachments if a.inline]
    if regular:
        attachments_add(
            ticket=ticket,
            message=message,
            files=[SimpleUploadedFile(a.filename, a.data, a.content_type) for a in regular],
            validate=False,
        )
    if inline:
        created = attachments_add(
            ticket=ticket,
            message=message,
            files=[SimpleUploadedFile(a.filename, a.data, a.content_type) for a in inline],
            validate=False,
            inline=True,
        )
        for attachment, part in zip(created, inline, strict=True):
            if part.content_id:
                attachment.content_id = part.content_id[:255]
                attachment.save(update_fields=["content_id"])


def _system_message(
    *, ticket: Ticket, inbound: InboundEmail, parsed: ParsedEmail, title: str
) -> Message:
    """An internal note from the system: bounces, auto-replies to closed tickets."""
    text = f"{title}\n\n{parsed.text}".strip()
    message = Message.objects.create(
        ticket=ticket,
        author_kind=Message.Author.SYSTEM,
        is_internal=True,
        channel=Ticket.Channel.EMAIL,
        text=text,
        full_text=parsed.full_text,
        email_message_id=parsed.message_id,
        inbound_email=inbound,
    )
    _attach(ticket=ticket, message=message, parsed=parsed)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.NOTE,
        actor_label=parsed.from_email or "system",
        note=title,
    )
    return message


def _is_report(parsed: ParsedEmail) -> bool:
    return parsed.is_report or bool(_REPORT_SENDER.match(parsed.from_email or ""))


def _report_ids(parsed: ParsedEmail) -> list[str]:
    """Message-IDs the bounce refers to: from its parts, and ours quoted in its text."""
    domain = "@" + settings.EMAIL_MESSAGE_ID_DOMAIN.lower() + ">"
    quoted = [m for m in message_ids(parsed.full_text) if m.lower().endswith(domain)]
    ids = [m for m in parsed.report_message_ids if m != parsed.message_id]
    return list(dict.fromkeys([*ids, *quoted]))[:30]


def _done(*, inbound: InboundEmail, ticket: Ticket | None, status: str, actor) -> IngestResult:
    inbound.status = status
    inbound.ticket = ticket
    inbound.error = ""
    inbound.processed_at = timezone.now()
    fields = ["status", "ticket", "error", "processed_at", "message_id", "sender", "subject"]
    if actor is not None:
        inbound.retried_by = actor
        fields.append("retried_by")
    inbound.save(update_fields=fields)
    return IngestResult(
        status=status,
        inbound_email_id=inbound.pk,
        ticket_id=ticket.pk if ticket else None,
        reference=ticket.reference if ticket else "",
    )


def _route(
    *,
    inbound: InboundEmail,
    parsed: ParsedEmail,
    queue: Queue | None,
    force_new: bool,
    actor,
    queues: dict[str, Queue] | None = None,
) -> IngestResult:
    _lock_message_id(parsed.message_id)
    if not force_new and _is_duplicate(inbound=inbound, message_id=parsed.message_id):
        return _done(
            inbound=inbound, ticket=None, status=InboundEmail.Status.DUPLICATE, actor=actor
        )

    queues = _queues() if queues is None else queues
    own = _own_addresses(queues)
    sender = parsed.from_email
    auto_reason = (
        auto_generated_reason(parsed.headers, own_addresses=own)
        if parsed.headers is not None
        else None
    )
    if queue is None:
        queue = queue_for(
            parsed=parsed, recipient=inbound.recipient, mailbox=inbound.mailbox, queues=queues
        )
    if queue is None:
        raise QuarantineError(_("There is no active queue to put the message in."))

    if not force_new:
        if not sender:
            raise QuarantineError(_("The message has no sender address."))
        if sender in own:
            raise QuarantineError(
                _("The message comes from our own address %(address)s (a mail loop?).")
                % {"address": sender}
            )
        if _is_report(parsed):
            ticket = report_thread_find(
                message_ids=_report_ids(parsed),
                subject=f"{parsed.report_subject} {parsed.subject}",
            )
            if ticket is None:
                raise QuarantineError(_("A delivery failure report for a message we cannot find."))
            _system_message(
                ticket=ticket,
                inbound=inbound,
                parsed=parsed,
                title=_("Delivery failure report from %(sender)s: %(subject)s")
                % {"sender": sender, "subject": parsed.subject},
            )
            return _done(
                inbound=inbound, ticket=ticket, status=InboundEmail.Status.PROCESSED, actor=actor
            )

    match = (
        NO_MATCH
        if force_new
        else thread_find(thread_ids=parsed.thread_ids, subject=parsed.subject, sender=sender)
    )
    if sender:
        contact = contact_get_or_create(full_name=parsed.from_name or sender, email=sender)
    else:
        contact = contact_get_or_create(full_name=_("Unknown sender"))
    is_auto = bool(auto_reason)
    text = parsed.text or _("(empty message)")
    content = {
        "html": parsed.html,
        "full_text": parsed.full_text,
        "email_message_id": parsed.message_id,
        "inbound_email": inbound,
    }

    if match.ticket is not None and match.trusted:
        ticket = match.ticket
        if ticket.status == Ticket.Status.CLOSED:
            if is_auto:
                # An out-of-office to a closed ticket: keep it, change nothing.
                _system_message(
                    ticket=ticket,
                    inbound=inbound,
                    parsed=parsed,
                    title=_("Automatic reply (%(reason)s)") % {"reason": auto_reason},
                )
            else:
                ticket = ticket_continue_in_new(
                    ticket=ticket,
                    text=text,
                    channel=Ticket.Channel.EMAIL,
                    subject=parsed.subject,
                    requester=contact,
                    auto_reply=True,
                    **content,
                )
                _attach(ticket=ticket, message=None, parsed=parsed)
        else:
            message = message_add_from_requester(
                ticket=ticket,
                text=text,
                channel=Ticket.Channel.EMAIL,
                reopen=not is_auto,
                **content,
            )
            _attach(ticket=ticket, message=message, parsed=parsed)
    else:
        ticket = ticket_create(
            queue=queue,
            requester=contact,
            channel=Ticket.Channel.EMAIL,
            subject=parsed.subject,
            text=text,
            auto_reply=not is_auto,
            actor=actor if force_new else None,
            **content,
        )
        _attach(ticket=ticket, message=None, parsed=parsed)
        if match.ticket is not None:
            # A stranger quoting someone else's number: related, never access.
            ticket_link(source=ticket, target=match.ticket, kind=TicketLink.Kind.RELATED)
    return _done(inbound=inbound, ticket=ticket, status=InboundEmail.Status.PROCESSED, actor=actor)
