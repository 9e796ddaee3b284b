"""Celery tasks: thin adapters over `notifications.services`."""

from celery import shared_task

from notifications.services import notification_send, outbox_sweep


# acks_late + the claim in `notification_send`: a redelivered task (worker lost, Redis
# visibility timeout) finds the row no longer pending and does nothing. The hard time
# limit stays below settings.OUTBOX_SENDING_TIMEOUT, so a row still "sending" after that
# timeout certainly belongs to a dead worker.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def notification_send_task(notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def notification_send_batch_task(notification_ids: list[int]) -> int:
    """Several rows (the SLA sweep's alerts); each is claimed and sent on its own."""
    return sum(notification_send(notification_id=pk) == "sent" for pk in notification_ids)


@shared_task(ignore_result=True, time_limit=300)
def outbox_sweep_task() -> dict:
    return outbox_sweep()
