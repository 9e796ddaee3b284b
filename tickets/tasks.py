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
def poll_mailboxes_task() -> dict:
    from tickets.intake.imap import mailboxes_poll

    return mailboxes_poll()


@shared_task(ignore_result=True)
def anonymise_expired_task() -> int:
    from tickets.services.retention import contacts_anonymise_expired

    return contacts_anonymise_expired(retention_days=settings.DATA_RETENTION_DAYS)
