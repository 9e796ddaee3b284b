"""E-mail intake: the one code path behind the three doors (pipe, IMAP, webhook).

The raw bytes are stored first, in their own commit: nothing is lost. Then the
messages are parsed (outside any transaction) and routed in one transaction per
batch: one statement locks their duplicate keys, one finds the duplicates, one loads
the senders' contacts, one writes every `InboundEmail` outcome. If anything goes wrong
the batch is rolled back and run again with a savepoint per message, so a message that
fails is quarantined alone, with the error, for an operator to retry or turn into a
ticket. Nothing here raises.
"""

import logging
import sys
import traceback
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notifications_publish_together
from tickets.intake.context import IntakeContext
from tickets.intake.decoding import clean_line, decode_bytes
from tickets.intake.dedup import content_hash, dedup_key, keys_lock, keys_processed
from tickets.intake.parse import ParsedEmail, parse_email
from tickets.intake.route import QuarantineError, route
from tickets.models import InboundEmail, Mailbox, Queue
from tickets.services import TicketDraft

logger = logging.getLogger(__name__)

__all__ = [
    "IngestResult",
    "QuarantineError",
    "email_ingest",
    "email_ingest_batch",
    "email_process",
    "inbounds_store",
]


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
    return settings.EMAIL_MAX_MESSAGE_BYTES


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
    more commits their processing. Never raises; results in the order of `raws`."""
    if not raws:
        return []
    try:
        inbounds = inbounds_store(raws=raws, source=source, mailbox=mailbox)
    except Exception:  # noqa: BLE001 - try one by one: each is stored or reported failed
        logger.exception("could not store a batch of %s inbound messages", len(raws))
        return [email_ingest(raw, source=source, mailbox=mailbox) for raw in raws]
    jobs = [_Job(inbound=inbound, raw=raw) for inbound, raw in zip(inbounds, raws, strict=True)]
    return _process(jobs)


def inbounds_store(
    *,
    raws: list[bytes],
    source: str,
    mailbox: Mailbox | None = None,
    recipient: str | None = None,
) -> list[InboundEmail]:
    """Keep the raw bytes, whatever they are (committed on their own, in one insert)."""
    inbounds = []
    recipient = clean_line(recipient or "", 998)
    for raw in raws:
        inbound = InboundEmail(source=source, mailbox=mailbox, size=len(raw), recipient=recipient)
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
) -> IngestResult:
    """Parse and route a stored message; quarantine it on any failure. Never raises.

    Used for the first attempt and by the operator's "retry" (`actor`) and "turn into
    ticket" (`force_new=True`, `queue`: no threading, no loop/bounce/duplicate checks).
    """
    job = _Job(inbound=inbound, raw=raw, queue=queue, force_new=force_new, actor=actor)
    return _process([job])[0]


# --- processing -------------------------------------------------------------------


@dataclass
class _Job:
    """One stored message on its way through `_process`."""

    inbound: InboundEmail
    raw: bytes | None = None
    queue: Queue | None = None
    force_new: bool = False
    actor: object = None
    parsed: ParsedEmail | None = None
    key: tuple[str, str] | None = None
    # the outcome, written to `inbound` by `_outcomes_save`
    status: str = InboundEmail.Status.RECEIVED
    ticket: object = None
    error: str = ""


_OUTCOME_FIELDS = [
    "status",
    "ticket",
    "error",
    "processed_at",
    "message_id",
    "content_hash",
    "sender",
    "subject",
]


def _process(jobs: list[_Job]) -> list[IngestResult]:
    for job in jobs:
        _prepare(job)
    routable = [job for job in jobs if job.parsed is not None]
    if not routable:
        _outcomes_save(jobs, lenient=True)
        return [_result(job) for job in jobs]
    try:
        # The fast way: no savepoint per message. Any failure rolls the batch back...
        with transaction.atomic(), notifications_publish_together():
            _route_all(routable, isolate=False)
            _outcomes_save(jobs)
    except Exception:  # noqa: BLE001
        if len(routable) > 1:
            # ... and it runs again with a savepoint per message: only the culprit is
            # quarantined.
            logger.info("batch of %s inbound messages retried one savepoint each", len(jobs))
            try:
                with transaction.atomic(), notifications_publish_together():
                    _route_all(routable, isolate=True)
                    _outcomes_save(jobs)
            except Exception:  # noqa: BLE001 - e.g. the commit failed: one transaction each
                logger.exception("batch of %s inbound messages rolled back", len(jobs))
                return [_process([_Job(inbound=job.inbound, raw=job.raw)])[0] for job in jobs]
        else:
            for job in routable:
                _fail(job, _exception_text(), unexpected=True)
            _outcomes_save(jobs, lenient=True)
    return [_result(job) for job in jobs]


def _exception_text() -> str:
    """The exception being handled, for the operator: its message and the last frames."""
    exc = sys.exc_info()[1]
    tail = "".join(traceback.format_exception(exc)[-6:])
    return f"{type(exc).__name__}: {exc}\n\n{tail}"


def _prepare(job: _Job) -> None:
    """Read and parse outside the transaction; a message we cannot parse is done."""
    inbound = job.inbound
    try:
        if job.raw is None:
            with inbound.raw.open("rb") as handle:
                job.raw = handle.read()
        inbound.content_hash = content_hash(job.raw)
        job.parsed = _parse(inbound=inbound, raw=job.raw, force=job.force_new)
        job.key = dedup_key(message_id=inbound.message_id, content_hash=inbound.content_hash)
    except QuarantineError as exc:
        _fail(job, str(exc))
    except Exception:  # noqa: BLE001 - whatever is wrong with it, keep it for a person
        _fail(job, _exception_text(), unexpected=True)


def _fail(job: _Job, error: str, *, unexpected: bool = False) -> None:
    if unexpected:
        logger.warning("inbound e-mail %s quarantined: %s", job.inbound.pk, error.split("\n")[0])
    job.status = InboundEmail.Status.QUARANTINED
    job.ticket = None
    job.error = error


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


def _route_all(jobs: list[_Job], *, isolate: bool) -> None:
    """Route the parsed messages in the current transaction; outcomes onto the jobs.

    `isolate`: a savepoint per message, and an unexpected error quarantines that
    message; otherwise it propagates (the caller rolls the batch back).
    """
    senders = [job.parsed.from_email for job in jobs]
    context = IntakeContext.load(senders=senders, deferred=not isolate)
    keys = [job.key for job in jobs if not job.force_new]
    # Two workers creating the contact of one new sender at once would make two: the
    # second waits for the first, then finds its contact.
    new_senders = sorted({s for s in senders if s and s not in context.contacts})
    if keys_lock(keys + [("contact", s) for s in new_senders]) and new_senders:
        context.contacts_load(new_senders)
    known = keys_processed(keys, exclude=[job.inbound.pk for job in jobs])
    for job in jobs:
        job.status, job.ticket, job.error = InboundEmail.Status.RECEIVED, None, ""
        if not job.force_new and job.key in known:
            job.status = InboundEmail.Status.DUPLICATE
            continue
        try:
            if isolate:
                with transaction.atomic():
                    job.ticket = _route_one(job, context)
            else:
                job.ticket = _route_one(job, context)
        except QuarantineError as exc:
            _fail(job, str(exc))
            continue
        except Exception:
            if not isolate:
                raise
            _fail(job, _exception_text(), unexpected=True)
            continue
        job.status = InboundEmail.Status.PROCESSED
        known.add(job.key)  # the same message twice in one batch
    context.flush()
    for job in jobs:
        if isinstance(job.ticket, TicketDraft):
            job.ticket = job.ticket.ticket
    context.attachments_flush()


def _route_one(job: _Job, context: IntakeContext):
    return route(
        inbound=job.inbound,
        parsed=job.parsed,
        context=context,
        queue=job.queue,
        force_new=job.force_new,
        actor=job.actor,
    )


def _outcomes_save(jobs: list[_Job], *, lenient: bool = False) -> None:
    """Write every message's outcome in one statement."""
    now = timezone.now()
    fields = list(_OUTCOME_FIELDS)
    for job in jobs:
        inbound = job.inbound
        inbound.status = job.status
        inbound.ticket = job.ticket
        inbound.error = job.error
        inbound.processed_at = now
        if job.actor is not None:
            inbound.retried_by = job.actor
            if "retried_by" not in fields:
                fields.append("retried_by")
    inbounds = [job.inbound for job in jobs]
    try:
        if len(inbounds) == 1 or "retried_by" in fields:
            for inbound in inbounds:
                inbound.save(update_fields=fields)
        else:
            _inbounds_update(inbounds, now)
    except Exception:
        if not lenient:
            raise
        # The rows (and the raw files) exist: they stay "received" for a person to see.
        logger.exception("could not record the outcome of %s inbound e-mails", len(inbounds))


def _inbounds_update(inbounds: list[InboundEmail], now) -> None:
    """`bulk_update` of the outcome fields in one UPDATE ... FROM (VALUES ...): Django's
    CASE WHEN form costs a millisecond per message to build."""
    columns = ["status", "ticket_id", "error", "message_id", "content_hash", "sender", "subject"]
    quote = connection.ops.quote_name
    table = quote(InboundEmail._meta.db_table)
    names = ", ".join(quote(c) for c in ["id", *columns])
    row = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    values = ", ".join([row] * len(inbounds))
    # ticket_id may be NULL in every row: PostgreSQL would then type the column as text.
    assignments = ", ".join(
        f"{quote(c)} = CAST(v.{quote(c)} AS bigint)"
        if c == "ticket_id"
        else f"{quote(c)} = v.{quote(c)}"
        for c in columns
    )
    params: list = []
    for inbound in inbounds:
        params += [inbound.pk, *(getattr(inbound, column) for column in columns)]
    params.append(connection.ops.adapt_datetimefield_value(now))
    # Identifiers from the model's metadata; every value is a parameter.
    sql = f"WITH v({names}) AS (VALUES {values}) UPDATE {table} SET {assignments}, "  # noqa: S608
    sql += f"{quote('processed_at')} = %s FROM v WHERE {table}.{quote('id')} = v.{quote('id')}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _result(job: _Job) -> IngestResult:
    ticket = job.ticket
    return IngestResult(
        status=job.status,
        inbound_email_id=job.inbound.pk,
        ticket_id=ticket.pk if ticket else None,
        reference=ticket.reference if ticket else "",
        error=job.error,
    )
