from django.core.management.base import BaseCommand

from knowledge_base.demo import seed_articles


class Command(BaseCommand):
    help = "Add the demo knowledge-base categories and articles (idempotent)."

    def handle(self, *args, **options):
        seed_articles(stdout=self.stdout)
