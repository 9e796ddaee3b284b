"""Bulk writing for the demo loader: rows straight to the tables (COPY on PostgreSQL,
executemany elsewhere), and a progress line with rows/s."""

import time
from datetime import UTC, datetime

from django.db import connection
from django.db.models import DateTimeField, Model
from django.utils import timezone

TICKET_COLUMNS = [
    "number",
    "token",
    "queue_id",
    "channel",
    "kind",
    "status",
    "priority",
    "line",
    "assignee_id",
    "assigned_group_id",
    "requester_id",
    "subject",
    "language",
    "created_at",
    "last_activity_at",
    "first_response_due",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "sla_remind_at",
    "sla_breach_at",
    "sla_paused_at",
    "first_contact_resolution",
]
MESSAGE_COLUMNS = [
    "ticket_id",
    "author_kind",
    "author_id",
    "is_internal",
    "channel",
    "text",
    "created_at",
]
EVENT_COLUMNS = [
    "ticket_id",
    "kind",
    "actor_id",
    "actor_label",
    "field",
    "old_value",
    "new_value",
    "note",
    "created_at",
]
RATING_COLUMNS = ["ticket_id", "solved", "rating", "comment", "created_at"]
LINK_COLUMNS = ["source_id", "target_id", "kind", "created_at"]


def _sqlite_datetime(value: datetime | None) -> str | None:
    # What Django's SQLite backend stores: naive UTC text.
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


class RowWriter:
    """Raw bulk inserts of plain dicts: COPY on PostgreSQL, executemany on SQLite.

    The ORM's bulk_create spends most of its time compiling SQL per value; a loader of
    millions of rows cannot afford that. Columns not given get the model field's default
    (computed once), so fields added to the models later still get valid values.
    """

    def __init__(self, model: type[Model], given: list[str]):
        self.table = model._meta.db_table
        now = timezone.now()
        sqlite = connection.vendor == "sqlite"
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in fields]
        self.plan = []
        for field in fields:
            if field.attname in given:
                convert = _sqlite_datetime if sqlite and isinstance(field, DateTimeField) else None
                self.plan.append((field.attname, convert, None))
            else:
                auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
                value = now if auto else field.get_default()
                self.plan.append((None, None, field.get_db_prep_save(value, connection)))

    def _rows(self, items):
        plan = self.plan
        for item in items:
            yield tuple(
                (convert(item[name]) if convert else item[name]) if name else constant
                for name, convert, constant in plan
            )

    def write(self, items) -> None:
        connection.ensure_connection()
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        # The raw DB-API cursor: same connection and transaction, no debug query log.
        # Table and column names come from the model's metadata, quoted: not user input.
        cursor = connection.connection.cursor()
        try:
            if connection.vendor == "postgresql":
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self._rows(items):
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(self.columns))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
                cursor.executemany(sql, self._rows(items))
        finally:
            cursor.close()


def ticket_ids_by_number(first: int, last: int) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT number, id FROM tickets_ticket WHERE number BETWEEN %s AND %s", [first, last]
        )
        return dict(cursor.fetchall())


class Progress:
    """A one-line progress bar with rows/s, redrawn in place."""

    def __init__(self, stdout, total: int, label: str):
        self.stdout, self.total, self.label = stdout, total, label
        self.started = time.perf_counter()
        self.rows = 0
        self.done = 0
        self._last = 0.0

    def update(self, done: int, rows: int) -> None:
        self.done += done
        self.rows += rows
        now = time.perf_counter()
        if now - self._last < 0.5 and self.done < self.total:
            return
        self._last = now
        elapsed = max(now - self.started, 1e-9)
        share = self.done / self.total if self.total else 1
        bar = "#" * int(share * 30)
        self.stdout.write(
            f"\r{self.label} [{bar:<30}] {share:6.1%} {self.done}/{self.total} "
            f"| {self.rows} rows, {self.rows / elapsed:,.0f} rows/s",
            ending="",
        )
        self.stdout.flush()

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.started
        self.stdout.write("")
        return elapsed
