"""`manage.py sla_sweep`: what beat runs every minute (reminders and breach alerts)."""

from django.core.management.base import BaseCommand

from tickets.sla_sweep import sla_sweep


class Command(BaseCommand):
    help = "Enqueue the SLA reminders and breach alerts that are due (each exactly once)."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=500, help="Tickets per transaction.")

    def handle(self, *args, batch: int, **options):
        result = sla_sweep(batch=batch)
        self.stdout.write(
            "reminders={reminders} breaches={breaches} mails={mails}".format(**result)
        )
