"""The outbox: write a message with the change that caused it, send it after commit.

This module knows nothing about tickets: callers pass a recipient, a template key, a
context and a reference string such as `SP-0042`.

Delivery guarantees (see docs/email.md, "Outbox"):

* `notification_enqueue` writes the row in the caller's transaction; the Celery task is
  published on commit. A broker that is down at that moment is logged, never raised:
  the row stays pending and `outbox_sweep` (beat, every 30 s) publishes it again.
* A row is sent only by the worker that *claims* it (one conditional UPDATE
  pending → sending). Two workers, a redelivered task or a sweeper re-publish can
  never send the same row twice; the unique idempotency key means the same event can
  never produce two rows. Claiming and sending live in `notifications.delivery`
  (workers claim and send in batches over one mail connection).
* A worker killed while sending leaves the row in `sending`. Just before the message is
  handed to the mail server we commit `handed_off_at`. After `OUTBOX_SENDING_TIMEOUT`
  the sweeper re-queues rows that died *before* the hand-off (nothing left us: no loss,
  no duplicate) and parks rows that died *during* it as failed with a reason: the
  server may have accepted the message, and we prefer a person pressing "resend" in
  the admin over a citizen getting the same mail twice. For SMTP the hand-off window
  is the MAIL/RCPT/DATA exchange on an already open and greeted connection
  (milliseconds); for an ESP it is the one HTTP request.
"""

import contextlib
import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from email.utils import getaddresses

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string

from notifications.models import Notification

logger = logging.getLogger(__name__)

# Kinds that are sent without a person deciding to: capped per recipient (no floods).
CAPPED_KINDS = (Notification.Kind.AUTO_REPLY, Notification.Kind.NOTICE)
_MESSAGE_ID_SALT = "notifications.message_id"
# 16 hex digits (64 bits) of MAC: a forger gets one guess per mail he sends.
_MESSAGE_ID_MAC_DIGITS = 16
_MESSAGE_ID_RE = re.compile(
    rf"^<?([a-z0-9-]+)\.([A-Za-z0-9]{{16}})\.([0-9a-f]{{{_MESSAGE_ID_MAC_DIGITS}}})@([^<>\s@]+)>?$"
)


# --- Message-IDs ------------------------------------------------------------------
# Format: <{reference}.{random16}.{hmac16}@{EMAIL_MESSAGE_ID_DOMAIN}>, for example
# <sp-0042.k3J9sQ0aB7cD1eF2.5c1d9e0a7b3f2e41@helpdesk.local>. `reference` is the
# lower-cased reference (`msg` when there is none); hmac16 is the first 16 hex digits
# (64 bits) of an HMAC-SHA256 of "{reference}.{random16}" keyed by SECRET_KEY, so a forged
# Message-ID naming another ticket is rejected by `message_id_verify`. Ids made before
# the MAC grew from 8 digits no longer verify: a reply to such an old mail threads by
# its [SP-0042] subject tag instead (the requester and earlier senders only), never by
# a 32-bit MAC, which a forger can hit by mailing often enough.


def _message_id_mac(local: str) -> str:
    key = hashlib.sha256((_MESSAGE_ID_SALT + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, local.encode(), hashlib.sha256).hexdigest()[:_MESSAGE_ID_MAC_DIGITS]


def _reference_slug(reference: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", reference.lower()).strip("-")
    return slug or "msg"


def make_message_id(reference: str = "") -> str:
    """A new signed Message-ID for a message about `reference` (see the format above)."""
    local = f"{_reference_slug(reference)}.{get_random_string(16)}"
    return f"<{local}.{_message_id_mac(local)}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


def message_id_verify(message_id: str) -> str | None:
    """The reference (upper-cased, `SP-0042`) a Message-ID we generated names, or None.

    None for anything we did not sign: another system's Message-ID, a forged or
    altered one. An empty reference part (`msg`) gives "".
    """
    match = _MESSAGE_ID_RE.match((message_id or "").strip())
    if match is None:
        return None
    slug, random_part, mac, _domain = match.groups()
    if not hmac.compare_digest(mac, _message_id_mac(f"{slug}.{random_part}")):
        return None
    return "" if slug == "msg" else slug.upper()


def notification_by_message_id(message_id: str) -> Notification | None:
    """The outbox row that was sent with this Message-ID (for threading replies), or None.

    Accepts the value with or without angle brackets, as found in In-Reply-To or
    References. Unsigned or forged ids are rejected before the database is asked.
    """
    value = (message_id or "").strip()
    if message_id_verify(value) is None:
        return None
    value = value if value.startswith("<") else f"<{value}>"
    return Notification.objects.filter(message_id=value).order_by("pk").first()


def notification_for_report(*, message_ids: Iterable[str]) -> Notification | None:
    """The mail we sent that a delivery report (bounce) is about, or None.

    Only a Message-ID we signed (`message_id_verify`) and stored on a row that left us
    (handed to the server) counts, so a forged report names nothing: the forger cannot
    guess the MAC, and knowing the id of a mail he received himself only ever reaches
    his own row. The first id that matches wins: callers pass the returned message's own
    Message-ID before the ids it refers to.
    """
    wanted = []
    for message_id in message_ids:
        value = (message_id or "").strip()
        if message_id_verify(value) is not None:
            wanted.append(value if value.startswith("<") else f"<{value}>")
    if not wanted:
        return None
    rows = {
        row.message_id: row
        for row in Notification.objects.filter(message_id__in=wanted[:30]).filter(
            Q(handed_off_at__isnull=False) | Q(sent_at__isnull=False)
        )
    }
    return next((rows[value] for value in wanted if value in rows), None)


@transaction.atomic
def notification_bounce_record(*, notification: Notification, status: str) -> bool:
    """A verified delivery report says the mail of this row failed for good (`status`,
    e.g. 5.1.1). The row is marked failed with the reason (a person may still resend
    it) and automatic mail to its recipient is held back for
    `EMAIL_BOUNCE_SUPPRESS_DAYS` (`_Suppressor`). Only this row's recipient: the address
    a report names in its text is never trusted. Returns whether the row changed.
    """
    updated = Notification.objects.filter(pk=notification.pk, bounced_at__isnull=True).update(
        bounced_at=timezone.now(),
        status=Notification.Status.FAILED,
        reason=f"bounced: {status}"[:255],
    )
    if updated:
        logger.info("notification %s bounced (%s)", notification.pk, status)
    return bool(updated)


def _recipients_bounced(recipients: Iterable[str], now: datetime) -> set[str]:
    """Recipients whose mail bounced for good within `EMAIL_BOUNCE_SUPPRESS_DAYS`."""
    days = settings.EMAIL_BOUNCE_SUPPRESS_DAYS
    recipients = sorted(set(recipients))
    if not days or not recipients:
        return set()
    return set(
        Notification.objects.filter(
            recipient__in=recipients, bounced_at__gte=now - timedelta(days=days)
        ).values_list("recipient", flat=True)
    )


# --- Enqueueing -------------------------------------------------------------------


_publish_together = threading.local()


@contextlib.contextmanager
def notifications_publish_together() -> Iterator[None]:
    """Rows enqueued inside share one on-commit publish: a batch of 50 e-mails makes
    one broker message instead of 50 (0.9 ms of CPU each). Use it inside the batch's
    transaction. A row whose savepoint was rolled back is published as an id that
    names nothing, and the worker's claim skips it; if the transaction rolls back,
    Django drops the publish with it."""
    if getattr(_publish_together, "ids", None) is not None:
        yield  # already collecting: the outer block publishes
        return
    ids: list[int] = []
    _publish_together.ids = ids
    try:
        yield
    finally:
        _publish_together.ids = None
        if ids:
            transaction.on_commit(lambda: notifications_schedule_batch(ids))


def own_addresses() -> set[str]:
    """Addresses that are ours by configuration (lower-cased)."""
    values = [
        settings.DEFAULT_FROM_EMAIL,
        settings.SERVER_EMAIL,
        *settings.OWN_EMAIL_ADDRESSES,
    ]
    return {addr.lower() for _name, addr in getaddresses(values) if addr}


def _recipients_hourly_counts(recipients: Iterable[str], now: datetime) -> dict[str, int]:
    """Automatic messages (not suppressed) to each recipient in the last hour.

    Runs before every auto-reply, so it is written out: the same query through the ORM
    costs 0.9 ms of Python to build, this 0.15 ms (bench/README.md, e-mail intake), and
    a mail batch asks for all its recipients at once. Served by the `notification_cap`
    index (recipient, kind, created_at).
    """
    recipients = sorted(set(recipients))
    if not recipients:
        return {}
    kinds = list(CAPPED_KINDS)
    sql = (
        "SELECT recipient, COUNT(*) FROM notifications_notification "  # noqa: S608 - fixed
        f"WHERE recipient IN ({', '.join(['%s'] * len(recipients))}) "
        f"AND kind IN ({', '.join(['%s'] * len(kinds))}) "
        "AND created_at >= %s AND status <> %s GROUP BY recipient"
    )
    params = [*recipients, *kinds, now - timedelta(hours=1), Notification.Status.SUPPRESSED]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = dict.fromkeys(recipients, 0)
        counts.update({recipient: int(count) for recipient, count in cursor.fetchall()})
    return counts


class _Suppressor:
    """Decides which new rows are stored as suppressed: mail to our own addresses,
    automatic mail to an address that bounced for good lately (a verified report,
    `notification_bounce_record`), and automatic mail past `AUTO_REPLY_HOURLY_CAP` per
    recipient per hour (counting the rows decided here, so a batch cannot slip past
    the cap)."""

    def __init__(self, *, recipients: Iterable[str], kinds: Iterable[str], now: datetime):
        self.own = own_addresses()
        self.cap = settings.AUTO_REPLY_HOURLY_CAP
        capped = {r for r, k in zip(recipients, kinds, strict=True) if k in CAPPED_KINDS}
        self.counts = _recipients_hourly_counts(capped, now) if self.cap else {}
        self.bounced = _recipients_bounced(capped, now)

    def reason(self, *, recipient: str, kind: str, from_email: str, own: Iterable[str]) -> str:
        ours = self.own | {a.strip().lower() for a in own if a}
        ours |= {addr.lower() for _n, addr in getaddresses([from_email]) if addr}
        if recipient in ours:
            return f"recipient {recipient} is our own address"
        if kind in CAPPED_KINDS and recipient in self.bounced:
            return f"mail to {recipient} bounced lately (a delivery report we verified)"
        if kind in CAPPED_KINDS and self.cap:
            if self.counts.get(recipient, 0) >= self.cap:
                return f"more than {self.cap} automatic messages to {recipient} in an hour"
            self.counts[recipient] = self.counts.get(recipient, 0) + 1
        return ""


def _insert_unless_exist(notifications: list[Notification]) -> list[Notification]:
    """INSERT the rows whose idempotency key does not exist yet; the ones inserted.

    `INSERT … ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key`
    (PostgreSQL and SQLite ≥ 3.35), one statement and no savepoint, waits for a
    concurrent transaction holding the same key and then skips, so two enqueues of one
    event never both insert. Sets the pk of each row inserted.
    """
    meta = Notification._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    key = meta.get_field("idempotency_key").column
    row = f"({', '.join(['%s'] * len(fields))})"
    by_key = {n.idempotency_key: n for n in reversed(notifications)}  # the first one wins
    inserted = []
    for start in range(0, len(notifications), 500):  # SQLite's bound-parameter limit
        chunk = notifications[start : start + 500]
        values = [
            field.get_db_prep_save(field.pre_save(notification, True), connection)
            for notification in chunk
            for field in fields
        ]
        # Only identifiers from the model go into the text; every value is a parameter.
        sql = (
            f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608
            f"({', '.join(quote(field.column) for field in fields)}) "
            f"VALUES {', '.join([row] * len(chunk))} "
            f"ON CONFLICT ({quote(key)}) DO NOTHING "
            f"RETURNING {quote(meta.pk.column)}, {quote(key)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, values)
            returned = cursor.fetchall()
        for pk, idempotency_key in returned:
            notification = by_key[idempotency_key]
            notification.pk = pk
            notification._state.adding = False
            notification._state.db = connection.alias
            inserted.append(notification)
    return inserted


def _notification_new(*, suppressor: _Suppressor, now: datetime, **item) -> Notification:
    recipient = item["recipient"].strip().lower()
    reference = item.get("reference", "")
    reason = suppressor.reason(
        recipient=recipient,
        kind=item["kind"],
        from_email=item.get("from_email", ""),
        own=item.get("own", ()),
    )
    return Notification(
        idempotency_key=item["idempotency_key"],
        recipient=recipient,
        template=item["template"],
        kind=item["kind"],
        context=item.get("context") or {},
        language=item.get("language", "ru"),
        reference=reference,
        from_email=item.get("from_email", ""),
        reply_to=item.get("reply_to", ""),
        headers=item.get("headers") or {},
        attachments=item.get("attachments") or [],
        message_id=make_message_id(reference),
        created_at=now,
        # If the on-commit publish is lost (broker down), the sweeper publishes the row
        # again once this moment has passed.
        next_attempt_at=now + timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER),
        status=Notification.Status.SUPPRESSED if reason else Notification.Status.PENDING,
        reason=reason,
    )


def _rows_enqueue(items: list[dict]) -> tuple[list[Notification], list[Notification]]:
    """Write the outbox rows of `items` and schedule their sends on commit.

    Returns (the rows built, the rows inserted): a row whose key existed is not inserted.
    """
    now = timezone.now()
    suppressor = _Suppressor(
        recipients=[item["recipient"].strip().lower() for item in items],
        kinds=[item["kind"] for item in items],
        now=now,
    )
    rows = [_notification_new(suppressor=suppressor, now=now, **item) for item in items]
    inserted = _insert_unless_exist(rows)
    owed = []
    for notification in inserted:
        if notification.reason:
            logger.info("notification %s suppressed: %s", notification.pk, notification.reason)
        else:
            owed.append(notification.pk)
    if owed and getattr(_publish_together, "ids", None) is not None:
        _publish_together.ids.extend(owed)
    elif len(owed) == 1:
        transaction.on_commit(lambda: notification_schedule(owed[0]))
    elif owed:
        transaction.on_commit(lambda: notifications_schedule_batch(owed))
    return rows, inserted


def notification_enqueue(
    *,
    recipient: str,
    template: str,
    kind: str,
    idempotency_key: str,
    context: dict | None = None,
    language: str = "ru",
    reference: str = "",
    from_email: str = "",
    reply_to: str = "",
    headers: dict | None = None,
    attachments: list[str] | None = None,
    own: Iterable[str] = (),
) -> Notification:
    """Write an outbox row in the caller's transaction; the send is scheduled on commit.

    Enqueueing the same idempotency key twice returns the existing row: never two sends.
    A message to one of our own addresses (settings, `from_email` or `own`), or an
    automatic message beyond `AUTO_REPLY_HOURLY_CAP` per recipient per hour, is stored
    as suppressed with the reason and never sent.
    """
    item = {
        "recipient": recipient,
        "template": template,
        "kind": kind,
        "idempotency_key": idempotency_key,
        "context": context,
        "language": language,
        "reference": reference,
        "from_email": from_email,
        "reply_to": reply_to,
        "headers": headers,
        "attachments": attachments,
        "own": own,
    }
    (notification,), inserted = _rows_enqueue([item])
    if not inserted:
        # The same event was enqueued before (or by a concurrent transaction).
        return Notification.objects.get(idempotency_key=idempotency_key)
    return notification


def notification_enqueue_many(*, items: list[dict]) -> int:
    """`notification_enqueue` for many rows at once (the SLA sweep, mail batches): one
    INSERT, and one query for the hourly cap of all recipients.

    Each item holds `notification_enqueue`'s keyword arguments. Keys already present
    are skipped, so a repeat never makes a second row. Returns how many rows are owed a
    send. Call inside the caller's transaction.
    """
    if not items:
        return 0
    _rows, inserted = _rows_enqueue(items)
    return sum(1 for notification in inserted if not notification.reason)


def notifications_schedule_batch(notification_ids: list[int], *, size: int = 50) -> int:
    """Publish sends in tasks of `size` rows: one broker round trip per batch, and
    several workers still share a large batch. Same guarantees as one task per row (the
    claim is per row); a broker outage leaves the rows to the sweeper. Returns the
    number of rows published."""
    from notifications.tasks import notification_send_batch_task

    published = 0
    for start in range(0, len(notification_ids), size):
        chunk = notification_ids[start : start + size]
        try:
            notification_send_batch_task.apply_async(args=[chunk], retry=False)
        except Exception:  # noqa: BLE001 - broker down: the sweeper takes over
            logger.warning("broker unavailable; %s notifications left for the sweeper", len(chunk))
            break
        published += len(chunk)
    return published


def notification_schedule(notification_id: int) -> bool:
    """Hand the row to a worker. A broker outage is logged, not raised: the row stays
    pending and the periodic sweeper sends it later. Returns whether it was published."""
    from notifications.tasks import notification_send_task

    try:
        notification_send_task.apply_async(args=[notification_id], retry=False)
    except Exception:  # noqa: BLE001 - broker down: the sweeper takes over
        logger.warning(
            "broker unavailable; notification %s left for the sweeper",
            notification_id,
            exc_info=True,
        )
        return False
    return True


@transaction.atomic
def notification_resend(*, notification: Notification) -> bool:
    """A person asks to send a failed or suppressed row (again). Sent rows are left alone.

    Returns whether the row was re-queued.
    """
    updated = Notification.objects.filter(
        pk=notification.pk,
        status__in=[Notification.Status.FAILED, Notification.Status.SUPPRESSED],
    ).update(
        status=Notification.Status.PENDING,
        attempts=0,
        reason="",
        handed_off_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER),
    )
    if updated:
        transaction.on_commit(lambda: notification_schedule(notification.pk))
    return bool(updated)


# --- Retention ----------------------------------------------------------------------


@transaction.atomic
def notifications_anonymise(*, references: Iterable[str]) -> int:
    """Erase the personal data kept in the outbox rows of these references (`SP-0042`):
    the rendered context (names, texts, chat transcripts, private links), the citizen's
    address, headers and attachment paths. Staff alerts keep their recipient (a staff
    address). A row still owed a send is suppressed: there is nothing left to send.
    Returns the number of rows touched.
    """
    references = [r for r in dict.fromkeys(references) if r]
    if not references:
        return 0
    rows = Notification.objects.filter(reference__in=references)
    rows.filter(status__in=[Notification.Status.PENDING, Notification.Status.SENDING]).update(
        status=Notification.Status.SUPPRESSED, reason="anonymised"
    )
    rows.exclude(kind=Notification.Kind.ALERT).update(recipient="", reply_to="")
    return rows.update(context={}, headers={}, attachments=[], last_error="")
