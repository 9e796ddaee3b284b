"""Celery tasks: thin adapters over `notifications.delivery`."""

from celery import shared_task

from notifications.delivery import BATCH_SIZE, notifications_send_owed, outbox_sweep


# acks_late + the claim in `notifications_claim`: a redelivered task (worker lost, Redis
# visibility timeout) finds its rows no longer pending and does nothing. The hard time
# limit stays below settings.OUTBOX_SENDING_TIMEOUT, so a row still "sending" after that
# timeout certainly belongs to a dead worker.
@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def notification_send_task(self, notification_id: int) -> int:
    """One row (published on commit); with a backlog, the worker takes a batch of owed
    rows with it, and the tasks of rows already sent find nothing to do."""
    return notifications_send_owed(notification_ids=[notification_id], fill=_fill(self))["sent"]


@shared_task(bind=True, acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def notification_send_batch_task(self, notification_ids: list[int]) -> int:
    """Several rows (a mail batch's auto-replies, the SLA sweep's alerts, the sweeper)."""
    return notifications_send_owed(notification_ids=notification_ids, fill=_fill(self))["sent"]


def _fill(task) -> int:
    # An eager call (CELERY_TASK_ALWAYS_EAGER: debugging, the tests) runs inside the
    # request or service that wrote the row: it sends its own rows only, never other
    # people's mail from a web process. A worker takes the backlog with it.
    return 0 if task.request.is_eager else BATCH_SIZE


@shared_task(ignore_result=True, time_limit=300)
def outbox_sweep_task() -> dict:
    return outbox_sweep()
