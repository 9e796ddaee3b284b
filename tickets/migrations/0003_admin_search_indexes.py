"""Indexes behind the operator workspace's search and filters (PostgreSQL only).

Trigram GIN indexes on UPPER(...) (the expression Django's `icontains` compares) make
name and subject searches an index scan at 1M rows;
pattern-ops B-trees serve e-mail/phone prefix searches; (assignee, number) and
(status, number) serve "mine" / status filters ordered by number; a partial index on
the first-answer deadline serves the SLA filter. Built CONCURRENTLY (atomic = False) so
a live tickets table is not locked. SQLite skips them all.
"""

from django.db import migrations

INDEXES = [
    (
        "tickets_contact_name_trgm",
        "tickets_contact USING gin ((UPPER(full_name::text)) gin_trgm_ops)",
    ),
    (
        "tickets_ticket_subject_trgm",
        "tickets_ticket USING gin ((UPPER(subject::text)) gin_trgm_ops)",
    ),
    (
        "tickets_contact_email_prefix",
        "tickets_contact (email varchar_pattern_ops)",
    ),
    (
        "tickets_contact_phone_prefix",
        "tickets_contact (phone varchar_pattern_ops)",
    ),
    (
        "tickets_ticket_assignee_number",
        "tickets_ticket (assignee_id, number DESC)",
    ),
    (
        "tickets_ticket_status_number",
        "tickets_ticket (status, number DESC)",
    ),
    (
        "tickets_ticket_first_due_open",
        "tickets_ticket (first_response_due) WHERE first_response_at IS NULL "
        "AND status IN ('new', 'open', 'pending')",
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tickets", "0002_ticket_number_sequence")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
