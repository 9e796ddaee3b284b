"""Concurrent appends on PostgreSQL never fork the chain."""

import threading

import pytest
from django.db import connection

from audit.chain import audit_chain_verify
from audit.models import AuditEvent
from audit.services import audit_record

THREADS = 8
EVENTS_PER_THREAD = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_from_many_threads_keep_one_unbroken_chain():
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            start.wait()
            for index in range(EVENTS_PER_THREAD):
                audit_record("auth.login", details={"thread": number, "index": index})
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    total = THREADS * EVENTS_PER_THREAD
    assert AuditEvent.objects.count() == total
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == total  # a fork would give two rows the same parent
    report = audit_chain_verify()
    assert report.ok, report.message
    assert report.checked == total
