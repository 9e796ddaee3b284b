"""`manage.py api_token create --user NAME --scopes tickets:read,tickets:write
[--queues slug,…] [--expires DAYS] [--name TEXT]` prints the token once;
`api_token revoke PREFIX` revokes it; `api_token list` shows tokens (never secrets)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.models import ApiToken
from api.services import api_token_create, api_token_revoke, token_split
from tickets.models import Queue


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class Command(BaseCommand):
    help = "Create, revoke or list API tokens."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Issue a token (printed once).")
        create.add_argument("--user", required=True, help="User name the token acts as.")
        create.add_argument("--scopes", required=True, help="Comma separated scopes.")
        create.add_argument("--queues", default="", help="Comma separated queue slugs.")
        create.add_argument("--expires", type=int, default=None, help="Days until it expires.")
        create.add_argument("--name", default="", help="What it is for.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its prefix or the token.")
        revoke.add_argument("token", help="The prefix (hd_<prefix>_…) or the whole token.")
        sub.add_parser("list", help="List tokens (prefix, user, scopes, state).")

    def handle(self, *args, action, **options):
        if action == "create":
            return self._create(**options)
        if action == "revoke":
            return self._revoke(options["token"])
        return self._list()

    def _create(self, *, user, scopes, queues, expires, name, **_):
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"no such user: {user}")
        slugs = _split(queues)
        queue_rows = list(Queue.objects.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {q.slug for q in queue_rows})
        if missing:
            raise CommandError(f"no such queue: {', '.join(missing)}")
        if expires is not None and expires < 1:
            raise CommandError("--expires must be at least 1 day")
        try:
            token, raw = api_token_create(
                user=account,
                name=name or f"{user} (command line)",
                scopes=_split(scopes),
                queues=queue_rows,
                expires_at=timezone.now() + timedelta(days=expires) if expires else None,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(f"Token {token.prefix} for {user}; shown once, store it now:")
        self.stdout.write(raw)

    def _revoke(self, value: str):
        parts = token_split(value)
        prefix = parts[0] if parts else value.removeprefix("hd_").rstrip("_…").split("_")[0]
        token = ApiToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"no such token: {prefix}")
        api_token_revoke(token=token)
        self.stdout.write(f"revoked hd_{token.prefix}_…")

    def _list(self):
        now = timezone.now()
        for token in ApiToken.objects.select_related("user").order_by("created_at"):
            state = "active" if token.is_active_at(now) else "inactive"
            self.stdout.write(
                f"hd_{token.prefix}_…\t{token.user.get_username()}\t{','.join(token.scopes)}"
                f"\t{state}\t{token.name}"
            )
