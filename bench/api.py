#!/usr/bin/env python
"""REST API timings: ticket list / retrieve / 304 / create, at a chosen number of tickets.

Seeds its own rows with bulk_create (contacts, tickets with reserved numbers, one
message each) until the table holds --tickets, ANALYZEs, then times each scenario over
--requests requests through Django's test Client with a bearer token (no HTTP server:
Django + DRF + the database, not the network). Creating is compared with the public
form's POST on the same machine and database:

    createdb -h 127.0.0.1 -U postgres hd_api_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_api_bench \\
    REDIS_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/api.py --tickets 100000 [--requests 200]

Prints p50/p95/p99 in ms, requests/s (one client, sequential) and statements per request.
Outgoing mail is not sent: the Celery broker is `memory://`, so the auto-reply's outbox
row is written (as in production) and its task published to nowhere.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["CELERY_BROKER_URL"] = "memory://"

BATCH = 10_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ALLOWED_HOSTS = ["*"]
    settings.API_RATE_LIMIT = 0
    settings.APPEAL_RATE_LIMIT = 0
    settings.LOOKUP_NUMBER_RATE_LIMIT = 0
    settings.LOOKUP_CONTACT_RATE_LIMIT = 0
    print(f"{connection.vendor} {connection.settings_dict['NAME']}: migrating…", flush=True)
    call_command("migrate", verbosity=0)
    queue = _seed(args.tickets)
    rows = _measure(queue, args.requests)
    _print(rows, args.tickets)
    return 0


def _seed(size: int):
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.models import Contact, Message, Queue, Ticket
    from tickets.numbering import ticket_numbers_reserve

    queue, _ = Queue.objects.get_or_create(
        slug="bench-api", defaults={"name": "Бенчмарк API", "email_address": "api@bench.local"}
    )
    have = Ticket.objects.count()
    rng = random.Random(have)
    started = time.perf_counter()
    statuses = ["new", "open", "open", "pending", "resolved", "closed", "closed", "closed"]
    while have < size:
        count = min(BATCH, size - have)
        now = timezone.now()
        with transaction.atomic():
            contacts = Contact.objects.bulk_create(
                Contact(
                    full_name=f"Заявитель {have + i}",
                    email=f"citizen{have + i}@bench.local",
                    phone=f"+7900{have + i:07d}",
                )
                for i in range(count)
            )
            tickets = Ticket.objects.bulk_create(
                Ticket(
                    number=number,
                    queue=queue,
                    requester=contact,
                    channel=rng.choice(["web", "email", "phone", "chat"]),
                    status=rng.choice(statuses),
                    subject=f"Обращение {number}",
                    created_at=now - timezone.timedelta(minutes=count - i),
                    last_activity_at=now,
                    first_response_due=now + timezone.timedelta(hours=rng.randint(-48, 24)),
                )
                for i, (number, contact) in enumerate(
                    zip(ticket_numbers_reserve(count), contacts, strict=True)
                )
            )
            Message.objects.bulk_create(
                Message(
                    ticket=ticket,
                    author_kind="requester",
                    channel=ticket.channel,
                    text="Здравствуйте! Не приходит код подтверждения.",
                )
                for ticket in tickets
            )
        have += count
        print(f"  seeded {have:,} tickets ({time.perf_counter() - started:.0f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return queue


def _measure(queue, requests: int) -> list[tuple[str, list[float], int]]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from api.models import ApiToken, Scope
    from api.services import api_token_create
    from tickets.models import Ticket

    user, _ = get_user_model().objects.get_or_create(
        username="bench-api", defaults={"is_staff": True, "is_superuser": True}
    )
    ApiToken.objects.filter(user=user).delete()
    _token, raw = api_token_create(user=user, name="bench", scopes=Scope.values)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    form_client = Client()
    newest = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
    rng = random.Random(1)
    ids = list(
        Ticket.objects.filter(id__gte=max(1, newest - 100_000)).values_list("id", flat=True)[:500]
    )
    etag_of = {pk: client.get(f"/api/v1/tickets/{pk}/")["ETag"] for pk in ids[:50]}
    seq = iter(range(10**9))

    def appeal() -> dict:
        n = next(seq)
        return {
            "queue": queue.pk,
            "channel": "web",
            "kind": "problem",
            "subject": "Не приходит СМС-код",
            "text": "Третий день не приходит код подтверждения.",
            "full_name": f"Новый Заявитель {n}",
            "email": f"new{n}-{time.time_ns()}@bench.local",
            "phone": "",
            "consent": True,
        }

    def form_post():
        data = {**appeal(), "queue": str(queue.pk), "consent": "on", "number": "", "inn": ""}
        return form_client.post("/appeal/", data)

    scenarios = {
        "list (first page, 50)": lambda: client.get("/api/v1/tickets/"),
        "list ?status=open": lambda: client.get("/api/v1/tickets/?status=open"),
        "list ?sla=breached": lambda: client.get("/api/v1/tickets/?sla=breached"),
        "list ?q=<number>": lambda: client.get(f"/api/v1/tickets/?q=SP-{rng.randint(1, newest)}"),
        "list, 20th page (cursor)": _deep_page(client),
        "retrieve": lambda: client.get(f"/api/v1/tickets/{rng.choice(ids)}/"),
        "retrieve 304 (If-None-Match)": lambda: _conditional(client, rng, etag_of),
        "create (API)": lambda: client.post(
            "/api/v1/tickets/", json.dumps(appeal()), content_type="application/json"
        ),
        "create (public form, for comparison)": form_post,
    }
    rows = []
    for name, call in scenarios.items():
        for _ in range(5):
            call()
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        timings = []
        with connection.execute_wrapper(count):
            for _ in range(requests):
                started = time.perf_counter()
                response = call()
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code >= 400:
                    raise SystemExit(
                        f"{name}: HTTP {response.status_code} {response.content[:300]}"
                    )
        rows.append((name, timings, round(len(executed) / requests)))
        print(f"  {name}: done", flush=True)
    return rows


def _deep_page(client):
    url = "/api/v1/tickets/"
    for _ in range(19):
        url = client.get(url).json()["next"]
    return lambda: client.get(url)


def _conditional(client, rng, etag_of):
    pk = rng.choice(list(etag_of))
    response = client.get(f"/api/v1/tickets/{pk}/", HTTP_IF_NONE_MATCH=etag_of[pk])
    assert response.status_code == 304, response.status_code
    return response


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _print(rows, size: int) -> None:
    print(f"\n{size:,} tickets")
    print("| scenario | p50 ms | p95 ms | p99 ms | req/s | statements |")
    print("|---|---|---|---|---|---|")
    for name, timings, statements in rows:
        rate = 1000 / statistics.mean(timings)
        print(
            f"| {name} | {_percentile(timings, 50):.1f} | {_percentile(timings, 95):.1f} "
            f"| {_percentile(timings, 99):.1f} | {rate:.0f} | {statements} |"
        )


if __name__ == "__main__":
    sys.exit(main())
