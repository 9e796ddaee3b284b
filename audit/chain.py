"""The hash chain: what a row's hash covers, and the walk that checks every link."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from audit.models import AuditChainHead, AuditEvent

# The content a row's hash covers: everything but its id and the two hashes. The id is
# left out because it is only known after the INSERT; order is kept by `prev_hash`.
HASHED_FIELDS = (
    "created_at",
    "actor_id",
    "actor_label",
    "address",
    "action",
    "object_ref",
    "object_label",
    "details",
)


def canonical_json(value: Any) -> str:
    """One spelling per value: sorted keys, no spaces, UTF-8 kept, unknown types as str."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """sha256 over the previous row's hash and this row's canonical content."""
    content = {**content, "created_at": _timestamp(content["created_at"])}
    payload = prev_hash + canonical_json({key: content[key] for key in HASHED_FIELDS})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    message: str
    event_id: int | None = None


def audit_chain_verify(*, chunk_size: int = 2000) -> ChainReport:
    """Walk the chain from the last pruned row to the head; report the first broken link.

    Runs in one snapshot (REPEATABLE READ on PostgreSQL; a SQLite read transaction is one
    already), so appends and pruning while it walks cannot look like tampering. Called
    inside a transaction, it sees what that transaction sees.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        head = AuditChainHead.objects.filter(pk=AuditChainHead.SINGLETON_PK).first()
        if head is None:
            head = AuditChainHead()
        return _walk(head, chunk_size)


def _walk(head: AuditChainHead, chunk_size: int) -> ChainReport:
    expected_prev, previous_id, checked = head.pruned_hash, None, 0
    rows = (
        AuditEvent.objects.filter(pk__gt=head.pruned_through_id)
        .order_by("id")
        .values("id", "prev_hash", "hash", *HASHED_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        if row["prev_hash"] != expected_prev:
            where = f"after event #{previous_id}" if previous_id else "at the start of the log"
            return ChainReport(
                False,
                checked,
                f"event #{row['id']}: its previous hash does not match the row before it "
                f"({where}): a row was deleted, inserted or reordered there",
                row["id"],
            )
        if event_hash(row["prev_hash"], row) != row["hash"]:
            return ChainReport(
                False,
                checked,
                f"event #{row['id']}: its content does not match its hash: the row was edited",
                row["id"],
            )
        expected_prev, previous_id = row["hash"], row["id"]
        checked += 1
    if expected_prev != head.hash:
        return ChainReport(
            False,
            checked,
            f"the newest event is #{previous_id or '-'} but the chain head names event "
            f"#{head.last_id}: rows at the end of the log were deleted or the head was edited",
            previous_id,
        )
    return ChainReport(True, checked, f"{checked} events verified, the chain is intact")
