"""Rebuild the knowledge base's search vectors and search rows from the stored articles."""

import time

from django.core.management.base import BaseCommand

from knowledge_base.services import articles_reindex


class Command(BaseCommand):
    help = (
        "Recompute every article's search vectors and search row: after articles were "
        "changed behind the services' back (SQL, an import) or the search configuration "
        "changed."
    )

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        count = articles_reindex()
        self.stdout.write(f"{count} articles reindexed in {time.monotonic() - started:.1f} s")
