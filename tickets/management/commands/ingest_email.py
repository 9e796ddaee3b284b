"""`manage.py ingest_email [FILE|-]`: the MTA pipe door (e.g. a Postfix alias).

Prints the ticket number, `duplicate`, or `quarantined <id>` and exits 0 for all three.
Exits 75 (EX_TEMPFAIL: the MTA keeps the message and retries) only when the message
could not even be stored.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Ingest one raw e-mail message from a file or standard input."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default="-", help="message file, or - for stdin")
        parser.add_argument("--recipient", default="", help="envelope recipient (queue choice)")

    def handle(self, *args, file: str, recipient: str, **options):
        try:
            if file == "-":
                raw = sys.stdin.buffer.read()
            else:
                with open(file, "rb") as handle:
                    raw = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}", returncode=EX_TEMPFAIL) from exc
        result = email_ingest(raw, source=InboundEmail.Source.PIPE, recipient=recipient or None)
        if not result.stored:
            raise CommandError(f"not stored: {result.error}", returncode=EX_TEMPFAIL)
        self.stdout.write(str(result))
