"""`manage.py poll_mailboxes`: fetch every active IMAP mailbox once (beat does it too)."""

from django.core.management.base import BaseCommand

from tickets.intake.imap import mailboxes_poll


class Command(BaseCommand):
    help = "Fetch new mail from every active IMAP mailbox into its queue."

    def handle(self, *args, **options):
        results = mailboxes_poll()
        for mailbox, stats in results.items():
            self.stdout.write(f"{mailbox}: {stats}")
        if not results:
            self.stdout.write("no active mailboxes")
