"""PostgreSQL only: pg_trgm (its trigram index is on the title vocabulary, migration
0003) and GIN indexes on the two search vectors. SQLite has none of them; its search
fallback needs no index."""

from django.db import DatabaseError, migrations, transaction

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS kb_article_search_gin "
    "ON knowledge_base_article USING gin (search_vector)",
    "CREATE INDEX IF NOT EXISTS kb_article_head_gin "
    "ON knowledge_base_article USING gin (search_head)",
    # The head vector is small: keep it in the row (no TOAST) so ranking stays cheap.
    "ALTER TABLE knowledge_base_article ALTER COLUMN search_head SET STORAGE MAIN",
    # Public searches (nearly all traffic) use these partial indexes alone; without
    # them the planner ANDs the GIN bitmap with the status/audience btree.
    "CREATE INDEX IF NOT EXISTS kb_article_public_search_gin "
    "ON knowledge_base_article USING gin (search_vector) "
    "WHERE status = 'published' AND audience = 'public'",
    "CREATE INDEX IF NOT EXISTS kb_article_public_head_gin "
    "ON knowledge_base_article USING gin (search_head) "
    "WHERE status = 'published' AND audience = 'public'",
]
BACKWARD = [
    "DROP INDEX IF EXISTS kb_article_public_head_gin",
    "DROP INDEX IF EXISTS kb_article_public_search_gin",
    "DROP INDEX IF EXISTS kb_article_head_gin",
    "DROP INDEX IF EXISTS kb_article_search_gin",
]


# Keep both vectors in the row (compressed) rather than in the TOAST table: a search
# that must re-check candidate rows (phrase queries) then reads one page per row instead
# of two, and lz4 (PostgreSQL 14+, when built with it) decompresses several times
# faster than the default pglz.
STORAGE = [
    "ALTER TABLE knowledge_base_article ALTER COLUMN search_vector SET STORAGE MAIN",
    "ALTER TABLE knowledge_base_article ALTER COLUMN search_vector SET COMPRESSION lz4",
    "ALTER TABLE knowledge_base_article ALTER COLUMN search_head SET COMPRESSION lz4",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in FORWARD:
        schema_editor.execute(sql)
    for sql in STORAGE:
        try:
            with transaction.atomic():
                schema_editor.execute(sql)
        except DatabaseError:
            pass  # an older server or one built without lz4: the defaults work too


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for sql in BACKWARD:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge_base", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
