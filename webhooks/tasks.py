"""Celery tasks: thin adapters over `webhooks.services`."""

from celery import shared_task

from webhooks.services import delivery_send, webhooks_prune, webhooks_sweep


# acks_late + the claim in `delivery_send`: a redelivered task finds the delivery no
# longer pending and does nothing. The hard time limit stays below SENDING_TIMEOUT, so
# a row still "sending" after it certainly belongs to a dead worker.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=45, time_limit=60)
def webhook_deliver_task(delivery_id: str) -> str:
    return delivery_send(delivery_id=delivery_id)


@shared_task(ignore_result=True, time_limit=120)
def webhooks_sweep_task() -> dict:
    return webhooks_sweep()


@shared_task(ignore_result=True, time_limit=1800)
def webhooks_prune_task() -> int:
    return webhooks_prune()
