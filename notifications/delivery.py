"""Delivery of the outbox: claim owed rows, build their mails, hand them to the mail
server, mark them sent; and the sweeper for rows left behind.

A worker delivers in batches: one statement claims up to `BATCH_SIZE` owed rows
(`SELECT … FOR UPDATE SKIP LOCKED`, so two workers never wait for each other or take the
same row), one mail connection carries the whole batch, and each mail costs one commit.
Claiming, a connection and three commits per mail made the worker commit-bound at
~50 mails/s per process (bench/README.md, "Mixed soak").

What a batch keeps of the per-row guarantees (services.py's docstring, docs/email.md):

* The claim (pending → sending) is still the only gate: a row is sent only by the
  worker whose claim took it; every other task, redelivery or sweep finds it taken.
* Just before a mail is handed to the server, its `handed_off_at` is committed, in the
  same statement that records the previous mail of the batch as sent. So at any moment at
  most one row of a batch is "handed off but not known to be sent" — exactly as when
  each row was sent on its own — and a worker killed mid-batch leaves: the rows sent
  and marked, that one row (parked by the sweeper as "may have been delivered"), and
  rows not yet handed off (re-queued by the sweeper: nothing left us).
* The mail connection is opened (connect, greet, log in) before the first hand-off
  mark; a failure there sent nothing and the row is retried. A mail the server refuses
  is retried with back-off on its own; the batch goes on over a fresh connection.
* A batch stops taking new mails after `BATCH_SECONDS` and gives the rest back as
  pending, so no row sits claimed anywhere near `OUTBOX_SENDING_TIMEOUT`.
"""

import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Case, F, Field, Q, Value, When
from django.template import TemplateDoesNotExist
from django.template.defaultfilters import linebreaksbr
from django.template.loader import render_to_string
from django.utils import timezone, translation

from notifications.models import Notification
from notifications.services import notifications_schedule_batch

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# Rows one worker claims and sends over one connection.
BATCH_SIZE = 50
# A batch takes no new mail after this long (far below OUTBOX_SENDING_TIMEOUT and the
# task's time limits).
BATCH_SECONDS = 60


# --- Building -----------------------------------------------------------------------


def _render(template: str, language: str, context: dict) -> tuple[str, str, str | None]:
    with translation.override(language):
        for lang in dict.fromkeys((language, settings.LANGUAGE_CODE, "ru")):
            base = f"notifications/email/{lang}/{template}"
            try:
                subject = render_to_string(f"{base}.subject.txt", context)
                text = render_to_string(f"{base}.txt", context)
            except TemplateDoesNotExist:
                continue
            try:
                html = render_to_string(f"{base}.html", context)
            except TemplateDoesNotExist:
                html = None
            return " ".join(subject.split()), text, html
    raise TemplateDoesNotExist(f"notifications/email/*/{template}")


def _with_sender_wording(
    context: dict, subject: str, text: str, html: str | None
) -> tuple[str, str, str | None]:
    """The sender's own wording, when the row carries it (a queue's templates, rendered
    by the sender when the row was written): `custom_subject` and `custom_text` replace
    the template's (a custom text goes as plain text only), `signature` closes the mail."""
    if context.get("custom_subject"):
        subject = context["custom_subject"]
    if context.get("custom_text"):
        text, html = context["custom_text"], None
    signature = (context.get("signature") or "").strip()
    if signature:
        text = f"{text.rstrip()}\n\n-- \n{signature}\n"
        if html:
            block = f'<p class="signature">{linebreaksbr(signature)}</p>'
            html = (
                html.replace("</body>", f"{block}</body>", 1) if "</body>" in html else html + block
            )
    return subject, text, html


def notification_build_email(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail for a row: rendered templates, `[SP-0042]` subject, our headers."""
    context = {**notification.context, "reference": notification.reference}
    subject, text, html = _render(notification.template, notification.language, context)
    subject, text, html = _with_sender_wording(context, subject, text, html)
    if notification.reference and f"[{notification.reference}]" not in subject:
        subject = f"[{notification.reference}] {subject}"
    headers = {
        **notification.headers,
        "Message-ID": notification.message_id,
        "X-Auto-Response-Suppress": "All",
    }
    if notification.kind == Notification.Kind.AUTO_REPLY:
        headers["Auto-Submitted"] = "auto-replied"
    elif notification.kind in (Notification.Kind.NOTICE, Notification.Kind.ALERT):
        headers["Auto-Submitted"] = "auto-generated"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=notification.from_email or settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        reply_to=[notification.reply_to] if notification.reply_to else None,
        headers=headers,
    )
    if html:
        email.attach_alternative(html, "text/html")
    for path in notification.attachments:
        with default_storage.open(path, "rb") as fh:
            email.attach(PurePath(path).name, fh.read())
    return email


# --- Claiming -----------------------------------------------------------------------


def notifications_claim(
    notification_ids: Sequence[int] = (), *, fill: int = 0, now: datetime | None = None
) -> list[Notification]:
    """Atomically take rows for sending: those of `notification_ids` still pending, plus
    up to `fill` more owed rows (never tried, or past their retry back-off), the ones
    waiting longest first. Returns the rows taken, in id order, now `sending`.

    One transaction: the rows are locked with SKIP LOCKED (a row another worker is
    claiming this instant is left to it), then the conditional UPDATE pending → sending
    marks them; of any number of workers and redelivered tasks exactly one takes a row.
    """
    now = now or timezone.now()
    pending = Notification.objects.filter(status=Notification.Status.PENDING)
    with transaction.atomic():
        pks: list[int] = []
        if notification_ids:
            pks = list(
                pending.filter(pk__in=list(notification_ids))
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)
            )
        wanted = min(fill, BATCH_SIZE) - len(pks) if fill else 0
        if wanted > 0:
            pks += list(
                pending.filter(Q(attempts=0) | Q(next_attempt_at__lte=now))
                .exclude(pk__in=pks)
                .order_by("next_attempt_at")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:wanted]
            )
        if not pks:
            return []
        Notification.objects.filter(pk__in=pks, status=Notification.Status.PENDING).update(
            status=Notification.Status.SENDING,
            attempts=F("attempts") + 1,
            sending_started_at=now,
            handed_off_at=None,
        )
        return list(
            Notification.objects.filter(pk__in=pks, status=Notification.Status.SENDING).order_by(
                "pk"
            )
        )


def notification_claim(notification_id: int) -> Notification | None:
    """Take one pending row for sending; None if it is sent, taken or parked."""
    rows = notifications_claim([notification_id])
    return rows[0] if rows else None


# --- Sending ------------------------------------------------------------------------


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def _send_failed(notification: Notification, exc: Exception) -> str:
    failed = notification.attempts >= MAX_ATTEMPTS
    status = Notification.Status.FAILED if failed else Notification.Status.PENDING
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(
        status=status,
        last_error=f"{type(exc).__name__}: {exc}"[:2000],
        reason=f"gave up after {notification.attempts} attempts" if failed else "",
        handed_off_at=None,
        next_attempt_at=timezone.now() + _backoff(notification.attempts),
    )
    logger.warning(
        "notification %s failed (attempt %s): %s", notification.pk, notification.attempts, exc
    )
    return status


def _mark_sent(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENDING).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error="", reason=""
    )


def _hand_off(row: Notification, previous: Notification | None) -> None:
    """Commit `row`'s hand-off mark, and in the same statement (one commit, one round
    trip) record `previous`, the batch's mail delivered just before, as sent."""
    now = timezone.now()
    if previous is None:
        Notification.objects.filter(pk=row.pk).update(handed_off_at=now)
        return
    was_sent = Q(pk=previous.pk, status=Notification.Status.SENDING)

    def when(condition: Q, field: str, value: object) -> Case:
        output = Notification._meta.get_field(field)
        assert isinstance(output, Field)  # a concrete column of the row, never a relation
        return Case(When(condition, then=Value(value)), default=F(field), output_field=output)

    Notification.objects.filter(pk__in=[previous.pk, row.pk]).update(
        handed_off_at=when(Q(pk=row.pk), "handed_off_at", now),
        status=when(was_sent, "status", Notification.Status.SENT),
        sent_at=when(was_sent, "sent_at", now),
        last_error=when(was_sent, "last_error", ""),
        reason=when(was_sent, "reason", ""),
    )


def _give_back(rows: list[Notification]) -> None:
    """Rows claimed but never handed off go back to pending as if never tried, and are
    published again."""
    if not rows:
        return
    Notification.objects.filter(
        pk__in=[row.pk for row in rows], status=Notification.Status.SENDING
    ).update(
        status=Notification.Status.PENDING,
        attempts=F("attempts") - 1,
        handed_off_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER),
    )
    pks = [row.pk for row in rows]
    transaction.on_commit(lambda: notifications_schedule_batch(pks))


def _connection_open() -> BaseEmailBackend:
    """A mail connection connected, greeted and logged in: a failure here sent nothing."""
    connection = get_connection(fail_silently=False)
    connection.open()
    smtp = getattr(connection, "connection", None)
    greet = getattr(smtp, "ehlo_or_helo_if_needed", None)
    if greet is not None:
        greet()
    return connection


def notifications_deliver(rows: list[Notification]) -> dict[str, int]:
    """Send claimed rows (`notifications_claim`) over one mail connection.

    Precondition: every row is `sending`, claimed by this caller. Returns how many rows
    ended in each status. See the module docstring for what a crash at any point leaves.
    """
    results: dict[str, int] = dict.fromkeys(
        (Notification.Status.SENT, Notification.Status.PENDING, Notification.Status.FAILED), 0
    )
    connection: BaseEmailBackend | None = None
    previous: Notification | None = None  # handed off and delivered, not yet marked sent
    deadline = time.monotonic() + BATCH_SECONDS
    rows = list(rows)
    try:
        while rows:
            if time.monotonic() > deadline:
                break
            row = rows.pop(0)
            try:
                email = notification_build_email(row)
                if connection is None:
                    connection = _connection_open()
            except Exception as exc:  # noqa: BLE001 - nothing was handed off: retried
                results[_send_failed(row, exc)] += 1
                continue
            _hand_off(row, previous)
            if previous is not None:
                results[Notification.Status.SENT] += 1
                previous = None
            try:
                connection.send_messages([email])
            except Exception as exc:  # noqa: BLE001 - refused or broken: retried with backoff
                results[_send_failed(row, exc)] += 1
                with contextlib.suppress(Exception):
                    connection.close()
                connection = None  # the rest of the batch goes over a fresh connection
                continue
            previous = row
    finally:
        if previous is not None:
            _mark_sent(previous)
            results[Notification.Status.SENT] += 1
        if connection is not None:
            with contextlib.suppress(Exception):  # the messages are already out (or not)
                connection.close()
        _give_back(rows)  # only what the deadline (or an unexpected error) left untouched
    return results


def notifications_send_owed(
    *, notification_ids: Sequence[int] = (), fill: int = BATCH_SIZE
) -> dict[str, int]:
    """A worker's unit of work: claim these rows (when still pending) and, while there is a
    backlog, up to `fill` more owed rows, and send them as one batch."""
    return notifications_deliver(notifications_claim(notification_ids, fill=fill))


def notification_send(*, notification_id: int) -> str:
    """Send one outbox row if it is still owed. Returns the resulting status, or
    "skipped" when the row was not pending."""
    rows = notifications_claim([notification_id])
    if not rows:
        return "skipped"
    results = notifications_deliver(rows)
    return next(status for status, count in results.items() if count)


# --- Sweeping -----------------------------------------------------------------------


def outbox_sweep(*, limit: int = 500, now: datetime | None = None) -> dict:
    """Publish rows still owed a send; deal with rows whose worker died mid-send.

    See services.py's module docstring for why a row that died during the hand-off is
    parked as failed instead of being sent again.
    """
    now = now or timezone.now()
    stuck = Notification.objects.filter(
        status=Notification.Status.SENDING,
        sending_started_at__lt=now - timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT),
    )
    requeued = stuck.filter(handed_off_at__isnull=True, attempts__lt=MAX_ATTEMPTS).update(
        status=Notification.Status.PENDING, next_attempt_at=now
    )
    parked = stuck.filter(handed_off_at__isnull=False).update(
        status=Notification.Status.FAILED,
        reason="the worker stopped while handing the message to the mail server; it may "
        "have been delivered, so it is not re-sent automatically (use “resend”)",
    )
    parked += stuck.filter(handed_off_at__isnull=True).update(
        status=Notification.Status.FAILED, reason=f"gave up after {MAX_ATTEMPTS} attempts"
    )
    due = list(
        Notification.objects.filter(status=Notification.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if due:
        # Not published again by the next sweep while this task waits in the queue.
        Notification.objects.filter(pk__in=due, status=Notification.Status.PENDING).update(
            next_attempt_at=now + timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER)
        )
    published = notifications_schedule_batch(due)
    return {"requeued": requeued, "parked": parked, "due": len(due), "published": published}
