"""A fresh install gets one queue, so the public form and the mail intake work after
`migrate` alone: without any, the form offers an empty required list and every e-mail
is quarantined ("no active queue"). Only when no queue exists; the admin renames it."""

from django.conf import settings
from django.db import migrations

from tickets.models.queue import DEFAULT_QUEUE_SLUG


def create_default_queue(apps, schema_editor) -> None:
    Queue = apps.get_model("tickets", "Queue")
    if Queue.objects.exists():
        return
    Queue.objects.create(
        slug=DEFAULT_QUEUE_SLUG,
        name=settings.DEFAULT_QUEUE_NAME,
        email_address=settings.DEFAULT_QUEUE_EMAIL,
        sla_first_response_hours=settings.SLA_FIRST_RESPONSE_HOURS,
        sla_reminder_percent=settings.SLA_REMINDER_PERCENT,
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_callbacks")]

    operations = [migrations.RunPython(create_default_queue, migrations.RunPython.noop)]
