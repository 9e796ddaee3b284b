"""Is this message one we already turned into a ticket? (DESIGN §4: duplicates ignored)

The key is the Message-ID; a message without one is known by a hash of its content
(`content_hash`), so an MTA or ESP retrying the same bytes does not open a second
ticket. Only *processed* messages count: a quarantined copy never hides a retry.

Concurrent doors and workers: on PostgreSQL the caller takes a transaction-level
advisory lock per key (`keys_lock`) before it asks `keys_processed`, so of two
transactions delivering the same message the second waits, then sees the first one's
commit. A batch takes all its locks in one statement, in sorted order: two batches
that share messages cannot deadlock.
"""

import hashlib
import re
import zlib

from django.db import connection
from django.db.models import Q

from tickets.models import InboundEmail

_LOCK_CLASS = 0x5E4A11
# Headers that say who wrote what and when; trace headers (Received, Delivered-To,
# Return-Path...) differ between two deliveries of the same message and are left out.
_HASHED_HEADERS = (b"from", b"to", b"cc", b"date", b"subject", b"in-reply-to", b"references")
_HEADER_NAME = re.compile(rb"^([!-9;-~]+)[ \t]*:")


def content_hash(raw: bytes) -> str:
    """SHA-256 of the body and the authored headers, blind to line endings and to the
    trace headers an MTA adds on each delivery attempt."""
    data = (raw or b"").replace(b"\r\n", b"\n")
    head, _sep, body = data.partition(b"\n\n")
    kept, current = [], None
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):  # a folded continuation of the previous header
            if current is not None:
                current.append(line.strip())
            continue
        match = _HEADER_NAME.match(line)
        name = match.group(1).lower() if match else b""
        current = [line.strip()] if name in _HASHED_HEADERS else None
        if current is not None:
            kept.append(current)
    digest = hashlib.sha256()
    for parts in sorted(b" ".join(parts) for parts in kept):
        digest.update(parts + b"\n")
    digest.update(b"\n" + body.rstrip())
    return digest.hexdigest()


def dedup_key(*, message_id: str, content_hash: str) -> tuple[str, str]:
    """("message_id", value) when the message has one, else ("content_hash", value)."""
    if message_id:
        return ("message_id", message_id)
    return ("content_hash", content_hash)


def keys_lock(keys: list[tuple[str, str]]) -> bool:
    """Serialise transactions that deliver the same messages (PostgreSQL; elsewhere the
    database's own write lock does, and nothing is locked: returns False). Any other
    (kind, value) pair works too, e.g. ("contact", address) for a contact to create.
    Call before anything else in the processing transaction."""
    if not keys or connection.vendor != "postgresql":
        return False
    ids = sorted(
        {zlib.crc32(f"{kind}:{value}".encode("utf-8", "replace")) - 2**31 for kind, value in keys}
    )
    with connection.cursor() as cursor:
        # unnest() yields the array in order: the locks are taken in sorted order.
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s, k)) FROM unnest(%s::int[]) AS k",
            [_LOCK_CLASS, ids],
        )
    return True


def keys_processed(keys: list[tuple[str, str]], *, exclude: list[int] = ()) -> set[tuple[str, str]]:
    """The keys among `keys` of messages already processed (one query), leaving out the
    rows `exclude` (the messages being processed)."""
    message_ids = {value for kind, value in keys if kind == "message_id" and value}
    hashes = {value for kind, value in keys if kind == "content_hash" and value}
    if not message_ids and not hashes:
        return set()
    condition = Q(message_id__in=message_ids) if message_ids else Q()
    if hashes:
        condition |= Q(message_id="", content_hash__in=hashes)
    found = set()
    rows = InboundEmail.objects.filter(condition, status=InboundEmail.Status.PROCESSED)
    if exclude:
        rows = rows.exclude(pk__in=exclude)
    for message_id, digest in rows.values_list("message_id", "content_hash").distinct():
        if message_id:
            found.add(("message_id", message_id))
        else:
            found.add(("content_hash", digest))
    return found
