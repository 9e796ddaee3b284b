"""`manage.py audit_verify`: walk the audit hash chain; exit 1 at the first broken link."""

import sys

from django.core.management.base import BaseCommand

from audit.chain import audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain and report the first broken link."

    def handle(self, *args, **options) -> None:
        report = audit_chain_verify()
        if report.ok:
            self.stdout.write(report.message)
            return
        self.stderr.write(f"audit log BROKEN: {report.message}")
        sys.exit(1)
