"""The IMAP door: poll each queue's mailbox (Celery beat, `manage.py poll_mailboxes`).

Messages are fetched and ingested in batches of FETCH_BATCH (`email_ingest_batch`:
one commit stores the batch's raw bytes, one more its processing).

A message is moved to the archive folder (or deleted) only after `email_ingest` has
committed it, so a crash or a database outage never loses mail: at worst the next
poll fetches it again, and the Message-ID makes it a duplicate.

Several workers can share one mailbox (IMAP_WORKERS): worker `shard` of `shards` takes
the messages whose UID modulo `shards` is `shard`, over its own connection, so no
message is fetched by two of them. A poll of a (mailbox, shard) that is still running
when the next one starts (a big backlog, beat every minute) makes the newcomer skip.
"""

import contextlib
import imaplib
import logging
import multiprocessing
import os
import re
import ssl
from collections.abc import Callable

from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.intake.ingest import IngestResult, email_ingest_batch
from tickets.models import InboundEmail, Mailbox
from tickets.models.queue import PASSWORD_ENV_PREFIX, password_env_allowed

logger = logging.getLogger(__name__)

FETCH_BATCH = 50
_POLL_LOCK_CLASS = 0x5E4A12


class MailboxError(Exception):
    pass


def mailbox_password(mailbox: Mailbox) -> str:
    if mailbox.password:
        return mailbox.password
    if mailbox.password_env:
        # Checked again here: a row saved before the rule, or not through the admin.
        if not password_env_allowed(mailbox.password_env):
            raise MailboxError(
                _(
                    "The environment variable %(name)s may not hold a mailbox password: "
                    "use a name starting with %(prefix)s."
                )
                % {"name": mailbox.password_env, "prefix": PASSWORD_ENV_PREFIX}
            )
        value = os.environ.get(mailbox.password_env)
        if value is None:
            raise MailboxError(
                _("The environment variable %(name)s is not set.") % {"name": mailbox.password_env}
            )
        return value
    raise MailboxError(_("No password and no password environment variable."))


def mailbox_connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.security == Mailbox.Security.NONE and not settings.IMAP_ALLOW_INSECURE:
        # Refused before connecting: the password would cross the network in clear.
        raise MailboxError(
            _("IMAP without TLS is not allowed (set IMAP_ALLOW_INSECURE=true for local testing).")
        )
    timeout = settings.IMAP_TIMEOUT
    if mailbox.security == Mailbox.Security.SSL:
        client = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=timeout
        )
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
        if mailbox.security == Mailbox.Security.STARTTLS:
            client.starttls(ssl_context=ssl.create_default_context())
    client.login(mailbox.username, mailbox_password(mailbox))
    # Servers announce more (MOVE, UIDPLUS) once logged in.
    status, data = client.capability()
    if status == "OK" and data and data[0]:
        client.capabilities = tuple(data[0].decode("ascii", "replace").upper().split())
    return client


def _check(response: tuple, what: str):
    status, data = response
    if status != "OK":
        raise MailboxError(f"{what}: {status} {data!r}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw_from_fetch(data: list) -> dict[bytes, bytes]:
    """UID → raw bytes from a `UID FETCH (UID BODY.PEEK[])` answer."""
    messages = {}
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            match = re.search(rb"UID (\d+)", item[0])
            if match:
                messages[match.group(1)] = item[1]
    return messages


def _remove(client: imaplib.IMAP4, mailbox: Mailbox, uids: list[bytes]) -> None:
    """Move the stored messages to the archive folder, or delete them."""
    if not uids:
        return
    uid_set = b",".join(uids).decode()
    capabilities = client.capabilities
    if mailbox.archive_folder:
        if "MOVE" in capabilities:
            _check(client.uid("MOVE", uid_set, _quote(mailbox.archive_folder)), "MOVE")
            return
        _check(client.uid("COPY", uid_set, _quote(mailbox.archive_folder)), "COPY")
    _check(client.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
    if "UIDPLUS" in capabilities:
        _check(client.uid("EXPUNGE", uid_set), "UID EXPUNGE")
    else:
        _check(client.expunge(), "EXPUNGE")


@contextlib.contextmanager
def _poll_lock(mailbox: Mailbox, shard: int):
    """Yield whether this (mailbox, shard) is ours to poll: a PostgreSQL session lock,
    released at the end or with the connection if the worker dies. Elsewhere (the
    embedded SQLite set-up runs one worker) always True."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = [_POLL_LOCK_CLASS, (mailbox.pk * 1024 + shard) % 2**31]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def mailbox_poll(
    *,
    mailbox: Mailbox,
    limit: int | None = None,
    ingest: Callable[..., list[IngestResult]] = email_ingest_batch,
    shard: int = 0,
    shards: int = 1,
) -> dict:
    """Fetch, ingest and remove one mailbox's messages (those of `shard` of `shards`).
    Errors go to `last_error`."""
    with _poll_lock(mailbox, shard) as ours:
        if not ours:
            logger.info("mailbox %s shard %s: still being polled; skipped", mailbox, shard)
            return {**_empty_stats(), "skipped": 1, "error": ""}
        return _mailbox_poll(
            mailbox=mailbox, limit=limit, ingest=ingest, shard=shard, shards=shards
        )


def _empty_stats() -> dict:
    return {"fetched": 0, "processed": 0, "duplicate": 0, "quarantined": 0, "failed": 0}


def _mailbox_poll(*, mailbox, limit, ingest, shard: int, shards: int) -> dict:
    stats = _empty_stats()
    error = ""
    client = None
    try:
        client = mailbox_connect(mailbox)
        if mailbox.archive_folder:
            client.create(_quote(mailbox.archive_folder))  # "already exists" is fine
        _check(client.select(_quote(mailbox.folder)), "SELECT")
        criteria = settings.IMAP_SEARCH or "ALL"
        uids = _check(client.uid("SEARCH", None, criteria), "SEARCH")[0].split()
        if shards > 1:
            uids = [uid for uid in uids if int(uid) % shards == shard]
        if limit is not None:
            uids = uids[:limit]
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = _raw_from_fetch(
                _check(client.uid("FETCH", b",".join(batch).decode(), "(UID BODY.PEEK[])"), "FETCH")
            )
            present = [uid for uid in batch if uid in fetched]
            stats["fetched"] += len(present)
            results = ingest(
                [fetched[uid] for uid in present], source=InboundEmail.Source.IMAP, mailbox=mailbox
            )
            stored = []
            for uid, result in zip(present, results, strict=True):
                stats[result.status] = stats.get(result.status, 0) + 1
                if result.stored:
                    stored.append(uid)
                else:
                    error = result.error
            _remove_after_commit(client, mailbox, stored)
    except (OSError, imaplib.IMAP4.error, MailboxError, ssl.SSLError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        logger.warning("mailbox %s: %s", mailbox, error)
    finally:
        if client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                client.logout()
    mailbox.last_polled_at = timezone.now()
    mailbox.last_error = error
    # With several shards, the first one clears the error; any of them records one.
    fields = ["last_polled_at", "last_error"] if error or shard == 0 else ["last_polled_at"]
    mailbox.save(update_fields=fields)
    stats["error"] = error
    return stats


def _remove_after_commit(client: imaplib.IMAP4, mailbox: Mailbox, uids: list[bytes]) -> None:
    """In autocommit each ingest has committed already; inside an outer transaction the
    removal waits for its commit, on a fresh connection."""
    if not transaction.get_connection().in_atomic_block:
        _remove(client, mailbox, uids)
        return

    def later():
        fresh = mailbox_connect(mailbox)
        try:
            _check(fresh.select(_quote(mailbox.folder)), "SELECT")
            _remove(fresh, mailbox, uids)
        finally:
            fresh.logout()

    transaction.on_commit(later)


def imap_workers() -> int:
    return max(1, settings.IMAP_WORKERS)


def mailboxes_poll(*, shard: int = 0, shards: int = 1) -> dict:
    """Poll every active mailbox once (its `shard` of `shards`); one failing mailbox
    does not stop the others."""
    results = {}
    for mailbox in Mailbox.objects.filter(is_active=True).select_related("queue"):
        results[str(mailbox)] = mailbox_poll(mailbox=mailbox, shard=shard, shards=shards)
    return results


def _poll_in_child(shard: int, shards: int) -> dict:
    try:
        return mailboxes_poll(shard=shard, shards=shards)
    finally:
        connections.close_all()


def mailboxes_poll_parallel(*, workers: int) -> dict:
    """`mailboxes_poll` in `workers` processes, each polling its shard of every mailbox
    (`manage.py poll_mailboxes --workers N`, where no Celery worker pool runs it).
    Returns the statistics summed per mailbox."""
    if workers <= 1:
        return mailboxes_poll()
    # Children must not share the parent's database connection: they open their own.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        parts = pool.starmap(_poll_in_child, [(shard, workers) for shard in range(workers)])
    results: dict[str, dict] = {}
    for part in parts:
        for name, stats in part.items():
            total = results.setdefault(name, {"error": ""})
            for key, value in stats.items():
                if key == "error":
                    total["error"] = total["error"] or value
                else:
                    total[key] = total.get(key, 0) + value
    return results
