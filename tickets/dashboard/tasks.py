from celery import shared_task

from tickets.dashboard.snapshots import dashboard_snapshots_refresh


@shared_task(name="tickets.dashboard.tasks.dashboard_refresh_task", ignore_result=True)
def dashboard_refresh_task() -> int:
    """Beat, every minute: keep the supervisor dashboard's standard views warm."""
    return len(dashboard_snapshots_refresh())
