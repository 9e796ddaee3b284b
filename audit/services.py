"""Writes to the audit log: `audit_record` (append one event) and `audit_prune` (retention).

Every other app records through `audit_record`; this app imports none of them. The
client address of a request comes from the callable named by AUDIT_CLIENT_ADDRESS
(the project points it at its trusted-proxy resolver), or callers pass `address=`.
"""

import json
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.db import connection, models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.module_loading import import_string

from audit.chain import HASHED_FIELDS, canonical_json, event_hash
from audit.conf import audit_setting
from audit.context import current_request
from audit.models import AuditChainHead, AuditEvent

HEAD_PK = AuditChainHead.SINGLETON_PK


def audit_object_ref(obj: models.Model) -> str:
    """`app_label.model:pk`, e.g. `tickets.ticket:42`."""
    return f"{obj._meta.label_lower}:{obj.pk}"


@lru_cache(maxsize=4)
def _address_resolver(path: str):
    return import_string(path) if path else None


def request_address(request: HttpRequest) -> str:
    resolver = _address_resolver(audit_setting("AUDIT_CLIENT_ADDRESS"))
    if resolver is not None:
        return resolver(request)
    return request.META.get("REMOTE_ADDR", "")


def audit_record(
    action: str,
    *,
    actor=None,
    request: HttpRequest | None = None,
    obj: models.Model | None = None,
    object_ref: str = "",
    details: dict | None = None,
    address: str = "",
    object_label: str = "",
) -> AuditEvent:
    """Append one event to the chain and return it.

    `action` is dotted (`auth.login`, `export.csv`). `actor` defaults to the signed-in
    user of `request`; `request` defaults to the one being served (AuditRequestMiddleware)
    and gives the client address unless `address` is passed. `obj` gives `object_ref`
    (`app_label.model:pk`) and, unless `object_label` is passed, `str(obj)` as the label:
    pass a label without personal data for objects whose str() has some (contacts).

    Runs in the caller's transaction (the event commits or rolls back with the change it
    records) and holds the chain head's row lock until that transaction ends: call it
    last, after the caller's own row locks, and keep the transaction short.
    """
    request = request if request is not None else current_request()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if not address and request is not None:
        address = request_address(request)
    if obj is not None:
        object_ref = object_ref or audit_object_ref(obj)
        object_label = object_label or str(obj)
    event = AuditEvent(
        created_at=timezone.now(),
        actor_id=actor.pk if actor is not None else None,
        actor_label=actor.get_username() if actor is not None else "",
        address=address[:64],
        action=action,
        object_ref=object_ref[:200],
        object_label=object_label[:200],
        # Stored exactly as hashed: the database gives back what was hashed.
        details=json.loads(canonical_json(details or {})),
    )
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _append_postgresql(event)
        else:
            _append_portable(event)
    return event


def _content(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


_INSERT_NAMES = (*HASHED_FIELDS, "prev_hash", "hash")


@lru_cache(maxsize=1)
def _postgresql_sql() -> tuple[str, str]:
    """The two statements of a PostgreSQL append (names from the models' meta only)."""
    quote = connection.ops.quote_name
    head = quote(AuditChainHead._meta.db_table)
    columns = ", ".join(
        quote(AuditEvent._meta.get_field(name.removesuffix("_id")).column) for name in _INSERT_NAMES
    )
    placeholders = ", ".join(["%s"] * len(_INSERT_NAMES))
    lock = f"SELECT hash FROM {head} WHERE id = %s FOR UPDATE"  # noqa: S608
    insert = (
        f"WITH new_event AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({placeholders}) RETURNING id) "
        f"UPDATE {head} SET hash = %s, last_id = (SELECT id FROM new_event) "
        f"WHERE id = %s RETURNING last_id"
    )
    return lock, insert


def _locked_head(cursor, lock: str) -> tuple:
    """Run the head-locking statement `lock`, creating the head row on first use."""
    cursor.execute(lock, [HEAD_PK])
    row = cursor.fetchone()
    if row is None:
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=HEAD_PK)], ignore_conflicts=True)
        cursor.execute(lock, [HEAD_PK])
        row = cursor.fetchone()
    return row


def _append_postgresql(event: AuditEvent) -> None:
    """Two round trips: lock the head and read its hash; insert + move the head."""
    lock, insert = _postgresql_sql()
    with connection.cursor() as cursor:
        # FOR UPDATE waits for the writer before us and then reads its committed hash.
        row = _locked_head(cursor, lock)
        event.prev_hash = row[0]
        event.hash = event_hash(event.prev_hash, _content(event))
        values = [
            AuditEvent._meta.get_field(name.removesuffix("_id")).get_db_prep_save(
                getattr(event, name), connection
            )
            for name in _INSERT_NAMES
        ]
        cursor.execute(insert, [*values, event.hash, HEAD_PK])
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias


def _append_portable(event: AuditEvent) -> None:
    """SQLite: three statements. The first takes the write lock before anything is read
    (SQLite cannot upgrade a read lock to a write lock while another writer waits)."""
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    with connection.cursor() as cursor:
        lock = f"UPDATE {table} SET last_id = last_id WHERE id = %s RETURNING hash"  # noqa: S608
        row = _locked_head(cursor, lock)
    event.prev_hash = row[0]
    event.hash = event_hash(event.prev_hash, _content(event))
    event.save(force_insert=True)
    AuditChainHead.objects.filter(pk=HEAD_PK).update(hash=event.hash, last_id=event.pk)


@transaction.atomic
def audit_prune(*, retention_days: int) -> int:
    """Delete events older than `retention_days` (0: keep all); returns how many.

    The one allowed delete. It cuts a prefix of the chain by id and keeps the hash of the
    last removed row in the head, where verification then starts.
    """
    if retention_days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=retention_days)
    if connection.vendor == "postgresql":
        # The database refuses any other delete (migration 0002): the SQL function
        # runs as the table's owner and does the same cut under the same head lock.
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_prune(%s)", [cutoff])
            return int(cursor.fetchone()[0])
    head = _head_for_update()
    last = (
        AuditEvent.objects.filter(pk__gt=head.pruned_through_id, created_at__lt=cutoff)
        .order_by("-id")
        .values("id", "hash")
        .first()
    )
    if last is None:
        return 0
    doomed = AuditEvent.objects.filter(pk__gt=head.pruned_through_id, pk__lte=last["id"])
    deleted = doomed._raw_delete(doomed.db)  # bypasses the append-only guard on purpose
    AuditChainHead.objects.filter(pk=HEAD_PK).update(
        pruned_hash=last["hash"], pruned_through_id=last["id"]
    )
    return deleted


def _head_for_update() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=HEAD_PK).first()
    if head is None:
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=HEAD_PK)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=HEAD_PK)
    return head
