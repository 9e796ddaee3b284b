"""Celery tasks: the daily chain check and retention pruning (thin adapters)."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def audit_verify_task() -> bool:
    from audit.chain import audit_chain_verify

    report = audit_chain_verify()
    if report.ok:
        logger.info("audit log: %s", report.message)
    else:
        logger.error("audit log tampered with: %s", report.message)
    return report.ok


@shared_task(ignore_result=True)
def audit_prune_task() -> int:
    from audit.conf import audit_setting
    from audit.services import audit_prune

    return audit_prune(retention_days=audit_setting("AUDIT_RETENTION_DAYS"))
