from celery import shared_task

from notifications.services import notification_send, outbox_sweep


@shared_task(acks_late=True, ignore_result=True)
def notification_send_task(notification_id: int) -> str:
    return notification_send(notification_id=notification_id)


@shared_task(ignore_result=True)
def outbox_sweep_task() -> int:
    return outbox_sweep()
