"""The audit log's chain: append-only rows, hashes, verification, pruning."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.chain import audit_chain_verify
from audit.models import AppendOnlyError, AuditChainHead, AuditEvent
from audit.services import audit_prune, audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _three_events():
    user = UserFactory(username="auditor-subject")
    return [
        audit_record("auth.login", actor=user, address="10.0.0.1"),
        audit_record("export.csv", actor=user, details={"export": "series", "rows": 3}),
        audit_record("ticket.merged", object_ref="tickets.ticket:1", details={"to": "SP-0002"}),
    ]


def _sql(statement: str, params=()) -> None:
    """Tamper as a superuser would: on PostgreSQL past the append-only triggers
    (session_replication_role, superuser only), which the chain must still catch."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_each_event_is_chained_to_the_one_before():
    first, second, third = _three_events()
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    head = AuditChainHead.objects.get()
    assert (head.hash, head.last_id) == (third.hash, third.pk)
    stored = AuditEvent.objects.get(pk=second.pk)
    assert stored.details == {"export": "series", "rows": 3}
    assert stored.actor_label == "auditor-subject"
    report = audit_chain_verify()
    assert report.ok and report.checked == AuditEvent.objects.count()


def test_the_model_refuses_to_change_or_delete_a_row():
    event = audit_record("auth.login")
    event.action = "auth.logout"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "auth.login"


def test_audit_verify_reports_a_row_edited_with_raw_sql(capsys):
    _first, second, _third = _three_events()
    table = AuditEvent._meta.db_table
    _sql(f"UPDATE {table} SET actor_label = %s WHERE id = %s", ["someone-else", second.pk])
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert f"event #{second.pk}" in err and "edited" in err


def test_audit_verify_reports_a_row_deleted_with_raw_sql(capsys):
    _first, second, third = _three_events()
    _sql(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [second.pk])
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")
    assert exit_info.value.code != 0
    err = capsys.readouterr().err
    assert f"event #{third.pk}" in err and "deleted" in err


def test_audit_verify_reports_the_newest_row_deleted(capsys):
    *_rest, third = _three_events()
    _sql(f"DELETE FROM {AuditEvent._meta.db_table} WHERE id = %s", [third.pk])
    report = audit_chain_verify()
    assert not report.ok and "end of the log" in report.message


def test_audit_verify_reports_two_rows_swapped():
    first, second, _third = _three_events()
    table = AuditEvent._meta.db_table
    # Swap the two rows' ids: each row keeps its content and hashes, the order changes.
    _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [-first.pk, first.pk])
    _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [first.pk, second.pk])
    _sql(f"UPDATE {table} SET id = %s WHERE id = %s", [second.pk, -first.pk])
    report = audit_chain_verify()
    assert not report.ok and report.event_id == first.pk
    assert "reordered" in report.message


def test_audit_verify_passes_on_an_intact_log(capsys):
    _three_events()
    call_command("audit_verify")
    assert "chain is intact" in capsys.readouterr().out


def test_prune_removes_old_rows_and_the_chain_still_verifies():
    old = timezone.now() - timedelta(days=40)
    # The time is part of the hash: age the rows as they are written.
    with mock.patch("audit.services.timezone.now", return_value=old):
        aged = [audit_record("auth.login"), audit_record("auth.login_failed")]
    kept = audit_record("export.csv")
    assert audit_prune(retention_days=30) == 2
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    head = AuditChainHead.objects.get()
    assert (head.pruned_hash, head.pruned_through_id) == (aged[-1].hash, aged[-1].pk)
    assert audit_chain_verify().ok
    assert audit_prune(retention_days=30) == 0
    later = audit_record("auth.login")
    assert later.prev_hash == kept.hash
    assert audit_chain_verify().ok


def test_prune_with_retention_zero_keeps_everything():
    _three_events()
    assert audit_prune(retention_days=0) == 0
    assert AuditEvent.objects.count() >= 3


def test_daily_job_logs_an_error_when_the_chain_is_broken(caplog):
    from audit.tasks import audit_verify_task

    _first, second, _third = _three_events()
    assert audit_verify_task.delay().get() is True
    _sql(f"UPDATE {AuditEvent._meta.db_table} SET address = %s WHERE id = %s", ["x", second.pk])
    with caplog.at_level("ERROR", logger="audit.tasks"):
        assert audit_verify_task.delay().get() is False
    assert any(
        record.levelname == "ERROR" and f"event #{second.pk}" in record.getMessage()
        for record in caplog.records
    )


def test_prune_job_uses_the_retention_setting(settings):
    from audit.tasks import audit_prune_task

    with mock.patch("audit.services.timezone.now", return_value=timezone.now() - timedelta(5)):
        audit_record("auth.login")
    settings.AUDIT_RETENTION_DAYS = 10
    assert audit_prune_task.delay().get() == 0
    settings.AUDIT_RETENTION_DAYS = 3
    assert audit_prune_task.delay().get() == 1
    assert audit_chain_verify().ok


def test_both_audit_jobs_are_on_the_beat_schedule():
    from helpdesk.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"audit.tasks.audit_verify_task", "audit.tasks.audit_prune_task"} <= tasks
