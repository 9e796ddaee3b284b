"""On PostgreSQL the database itself keeps the audit log append-only (audit migration
0002): UPDATE, DELETE and TRUNCATE are refused; `audit_prune(before)` is the one delete."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.chain import audit_chain_verify
from audit.models import AuditChainHead, AuditEvent
from audit.services import audit_prune, audit_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLE = AuditEvent._meta.db_table


def _refused(statement: str, params=()) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)


def _aged(action: str, days: int) -> AuditEvent:
    with mock.patch("audit.services.timezone.now", return_value=timezone.now() - timedelta(days)):
        return audit_record(action)


def test_update_of_an_audit_row_is_refused_by_the_database():
    event = audit_record("auth.login")
    _refused(f"UPDATE {TABLE} SET actor_label = %s WHERE id = %s", ["someone", event.pk])
    assert AuditEvent.objects.get(pk=event.pk).actor_label == event.actor_label


def test_delete_of_an_audit_row_is_refused_by_the_database():
    event = audit_record("auth.login")
    _refused(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_truncate_of_the_audit_table_is_refused_by_the_database():
    audit_record("auth.login")
    with connection.cursor() as cursor:  # what the test runner's connections allow
        cursor.execute("SELECT set_config('audit.allow_truncate', 'off', true)")
    _refused(f"TRUNCATE {TABLE}")
    assert AuditEvent.objects.exists()


def test_a_role_that_does_not_own_the_table_cannot_delete_even_with_the_flags_set():
    """The flags alone do nothing: only the owner (audit_prune runs as it) may delete."""
    event = audit_record("auth.login")
    with connection.cursor() as cursor:
        cursor.execute("DROP ROLE IF EXISTS audit_app_test")
        cursor.execute("CREATE ROLE audit_app_test")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON {TABLE} TO audit_app_test"
        )
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL ROLE audit_app_test")
            cursor.execute("SELECT set_config('audit.pruning', 'on', true)")
            cursor.execute("SELECT set_config('audit.allow_truncate', 'on', true)")
            for statement in (f"DELETE FROM {TABLE} WHERE id = %s", f"TRUNCATE {TABLE}"):
                params = [event.pk] if "%s" in statement else []
                with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                    cursor.execute(statement, params)
            cursor.execute("RESET ROLE")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"REVOKE ALL ON {TABLE} FROM audit_app_test")
            cursor.execute("DROP ROLE audit_app_test")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_prune_function_deletes_only_old_rows_and_the_chain_verifies():
    old = [_aged("auth.login", 40), _aged("auth.login_failed", 35)]
    kept = [_aged("export.csv", 5), audit_record("auth.login")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_prune(%s)", [timezone.now() - timedelta(days=30)])
        assert cursor.fetchone()[0] == 2
    assert sorted(AuditEvent.objects.values_list("pk", flat=True)) == [e.pk for e in kept]
    head = AuditChainHead.objects.get()
    assert (head.pruned_hash, head.pruned_through_id) == (old[-1].hash, old[-1].pk)
    assert audit_chain_verify().ok
    # The flag it set for the delete is off again: a later delete is refused.
    _refused(f"DELETE FROM {TABLE} WHERE id = %s", [kept[0].pk])


def test_retention_service_and_job_prune_through_the_database_function(settings):
    from audit.tasks import audit_prune_task

    _aged("auth.login", 40)
    assert audit_prune(retention_days=30) == 1
    _aged("auth.login", 20)
    kept = audit_record("auth.login")
    settings.AUDIT_RETENTION_DAYS = 10
    assert audit_prune_task.delay().get() == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    assert audit_chain_verify().ok
    call_command("audit_verify")


@pytest.mark.django_db(transaction=True)
def test_flush_between_transactional_tests_still_empties_the_audit_table():
    audit_record("auth.login")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
