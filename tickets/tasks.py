"""Celery tasks: thin adapters that call one service each."""

from celery import shared_task
from django.conf import settings


@shared_task(ignore_result=True)
def sla_sweep_task() -> dict:
    from tickets.sla_sweep import sla_sweep

    return sla_sweep()


@shared_task(ignore_result=True)
def auto_close_task() -> int:
    from tickets.services import tickets_close_resolved

    return tickets_close_resolved(older_than_days=settings.AUTO_CLOSE_DAYS)


@shared_task(ignore_result=True)
def poll_mailboxes_task() -> dict | None:
    """Poll every mailbox; with IMAP_WORKERS > 1, one task per share of the messages."""
    from tickets.intake.imap import imap_workers, mailboxes_poll

    workers = imap_workers()
    if workers == 1:
        return mailboxes_poll()
    for shard in range(workers):
        poll_mailboxes_shard_task.delay(shard, workers)
    return None


@shared_task(ignore_result=True)
def poll_mailboxes_shard_task(shard: int, shards: int) -> dict:
    from tickets.intake.imap import mailboxes_poll

    return mailboxes_poll(shard=shard, shards=shards)


@shared_task(ignore_result=True)
def anonymise_expired_task() -> int:
    from tickets.services.retention import contacts_anonymise_expired

    return contacts_anonymise_expired(retention_days=settings.DATA_RETENTION_DAYS)
