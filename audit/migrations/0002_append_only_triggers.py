"""PostgreSQL only: the database itself refuses UPDATE, DELETE and TRUNCATE of audit
events; `audit_prune(before)` is the one way to delete (docs/security.md, "Audit log").

Why SECURITY DEFINER plus an owner check, not a transaction-local setting alone: any
role may `SET LOCAL` a custom setting, so a flag by itself would let the application
role (or an SQL injection through it) switch the guard off. The trigger lets a DELETE
through only while `audit_prune` runs — it sets `audit.pruning` for its own transaction
— *and* only when the current user is the table's owner, which is what a SECURITY
DEFINER function owned by the migration role runs as. With the recommended split (the
owner runs migrations; the runtime role has SELECT/INSERT on the table and EXECUTE on
`audit_prune`) the runtime role cannot delete, update or truncate rows, and setting the
flag itself gains it nothing. When one role owns the tables and also runs the site, the
triggers still stop every UPDATE/DELETE/TRUNCATE that does not set the flag on purpose,
but that owner can always drop a trigger: only the role split makes the log safe from it.

TRUNCATE is let through on the same terms with `audit.allow_truncate` (the test suite's
flush between transactional tests sets it for its own connections; it runs as owner).

SQLite keeps today's behaviour (the model and queryset guards).
"""

from django.db import migrations

TABLE = "audit_auditevent"
HEAD = "audit_auditchainhead"


def _forward_sql(schema: str) -> list[str]:
    return [
        f"""
CREATE OR REPLACE FUNCTION {schema}.audit_event_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    owner name;
BEGIN
    SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = TG_RELID;
    IF current_user = owner THEN
        IF TG_OP = 'DELETE' AND current_setting('audit.pruning', true) = 'on' THEN
            RETURN OLD;
        END IF;
        IF TG_OP = 'TRUNCATE' AND current_setting('audit.allow_truncate', true) = 'on' THEN
            RETURN NULL;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused (pruning is audit_prune())', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$""",
        f"""
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON {schema}.{TABLE}
FOR EACH ROW EXECUTE FUNCTION {schema}.audit_event_refuse()""",
        f"""
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {schema}.{TABLE}
FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_event_refuse()""",
        # A prefix of the chain by id, as audit.services.audit_prune does on SQLite: the
        # head keeps the hash of the last row removed, where verification then starts.
        f"""
CREATE OR REPLACE FUNCTION {schema}.audit_prune(before timestamptz) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    head record;
    last record;
    deleted bigint;
BEGIN
    INSERT INTO {HEAD} (id, hash, last_id, pruned_hash, pruned_through_id)
    VALUES (1, repeat('0', 64), 0, repeat('0', 64), 0) ON CONFLICT (id) DO NOTHING;
    SELECT * INTO head FROM {HEAD} WHERE id = 1 FOR UPDATE;
    SELECT id, hash INTO last FROM {TABLE}
    WHERE id > head.pruned_through_id AND created_at < before ORDER BY id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    PERFORM set_config('audit.pruning', 'on', true);
    DELETE FROM {TABLE} WHERE id > head.pruned_through_id AND id <= last.id;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('audit.pruning', 'off', true);
    UPDATE {HEAD} SET pruned_hash = last.hash, pruned_through_id = last.id WHERE id = 1;
    RETURN deleted;
END
$$""",
        f"REVOKE ALL ON FUNCTION {schema}.audit_prune(timestamptz) FROM PUBLIC",
    ]


def _backward_sql(schema: str) -> list[str]:
    return [
        f"DROP FUNCTION IF EXISTS {schema}.audit_prune(timestamptz)",
        f"DROP TRIGGER IF EXISTS audit_event_no_truncate ON {schema}.{TABLE}",
        f"DROP TRIGGER IF EXISTS audit_event_append_only ON {schema}.{TABLE}",
        f"DROP FUNCTION IF EXISTS {schema}.audit_event_refuse()",
    ]


def _run(apps, schema_editor, build) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        (schema,) = cursor.fetchone()
        for statement in build(schema):
            cursor.execute(statement)


def forward(apps, schema_editor) -> None:
    _run(apps, schema_editor, _forward_sql)


def backward(apps, schema_editor) -> None:
    _run(apps, schema_editor, _backward_sql)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
