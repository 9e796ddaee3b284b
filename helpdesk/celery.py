"""Celery app: `celery -A helpdesk worker` and `celery -A helpdesk beat`."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["tickets.dashboard"])  # not an app of its own

# A static schedule: one beat process for the whole installation.
app.conf.beat_schedule = {
    "notifications-sweep-outbox": {
        "task": "notifications.tasks.outbox_sweep_task",
        "schedule": 30.0,
    },
    "tickets-sla-sweep": {
        "task": "tickets.tasks.sla_sweep_task",
        "schedule": 60.0,
    },
    "tickets-auto-close": {
        "task": "tickets.tasks.auto_close_task",
        "schedule": crontab(minute=17),
    },
    "tickets-anonymise-expired": {
        "task": "tickets.tasks.anonymise_expired_task",
        "schedule": crontab(hour=3, minute=41),
    },
    "tickets-dashboard-refresh": {
        "task": "tickets.dashboard.tasks.dashboard_refresh_task",
        "schedule": 60.0,
    },
    "tickets-poll-mailboxes": {
        "task": "tickets.tasks.poll_mailboxes_task",
        "schedule": 60.0,
    },
    "audit-verify": {
        "task": "audit.tasks.audit_verify_task",
        "schedule": crontab(hour=4, minute=7),
    },
    "audit-prune": {
        "task": "audit.tasks.audit_prune_task",
        "schedule": crontab(hour=4, minute=37),
    },
    "webhooks-sweep": {
        "task": "webhooks.tasks.webhooks_sweep_task",
        "schedule": 30.0,
    },
    "webhooks-prune": {
        "task": "webhooks.tasks.webhooks_prune_task",
        "schedule": crontab(hour=4, minute=53),
    },
}
