"""`manage.py mfa_reset USERNAME`: remove a user's second factors (lost phone)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from staffauth.services import factors_reset


class Command(BaseCommand):
    help = "Remove all second factors of a user and end their sessions; they enrol again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user {options['username']!r}")
        removed = factors_reset(user=user, actor=None, request=None)
        self.stdout.write(
            f"{user.get_username()}: {removed} second-factor device(s) removed; "
            "they set up a new one at /account/security/ after signing in."
        )
