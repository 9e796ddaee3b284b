from django.conf import settings
from django.core.management.base import BaseCommand

from tickets.services.retention import contacts_anonymise_expired


class Command(BaseCommand):
    help = "Remove personal data of requesters whose tickets closed beyond the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="override DATA_RETENTION_DAYS")

    def handle(self, *args, days=None, **options):
        days = settings.DATA_RETENTION_DAYS if days is None else days
        count = contacts_anonymise_expired(retention_days=days, limit=10**9)
        self.stdout.write(f"anonymised {count} requester(s) (retention {days} days)")
