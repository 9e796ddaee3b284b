"""`manage.py poll_mailboxes [--workers N]`: fetch every active IMAP mailbox once (beat
does it too). With N > 1 (default IMAP_WORKERS), N processes share each mailbox."""

from django.core.management.base import BaseCommand

from tickets.intake.imap import imap_workers, mailboxes_poll_parallel


class Command(BaseCommand):
    help = "Fetch new mail from every active IMAP mailbox into its queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes sharing each mailbox (default: IMAP_WORKERS)",
        )

    def handle(self, *args, workers: int | None, **options):
        results = mailboxes_poll_parallel(workers=workers or imap_workers())
        for mailbox, stats in results.items():
            self.stdout.write(f"{mailbox}: {stats}")
        if not results:
            self.stdout.write("no active mailboxes")
