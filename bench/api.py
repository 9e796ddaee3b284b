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
import secrets
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
    parser.add_argument("--seed-only", action="store_true", help="seed, analyse, stop")
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
    if args.seed_only:
        return 0
    print("load average before measuring: " + " / ".join(f"{x:.1f}" for x in os.getloadavg()))
    rows = _measure(queue, args.requests)
    _print(rows, args.tickets)
    return 0


def _seed(size: int):
    """Appends tickets until the table holds `size`: a contact per three tickets, the
    ticket (numbers reserved in bulk) and its first message, written with COPY through
    the demo loader's RowWriter (executemany on SQLite), BATCH tickets per transaction,
    with a progress line. Four queues, every status and channel, a third of the open
    ones owed."""
    from django.core.management.base import OutputWrapper
    from django.db import connection, transaction
    from django.utils import timezone

    from tickets.demo.bulk import MESSAGE_COLUMNS, Progress, RowWriter, ticket_ids_by_number
    from tickets.models import Contact, Message, Queue, Ticket
    from tickets.numbering import ticket_numbers_reserve

    queues = [
        Queue.objects.get_or_create(
            slug=f"bench-api-{i}",
            defaults={"name": f"Бенчмарк API {i}", "email_address": f"api{i}@bench.local"},
        )[0]
        for i in range(4)
    ]
    have = Ticket.objects.count()
    if have >= size:
        return queues[0]
    rng = random.Random(have)
    statuses = ["new", "open", "open", "pending", "resolved", "closed", "closed", "closed"]
    channels = ["web", "email", "phone", "chat", "api"]
    kinds = ["question", "problem", "complaint", "suggestion"]
    contact_writer = RowWriter(Contact, ["full_name", "email", "phone"])
    ticket_writer = RowWriter(
        Ticket,
        [
            "number", "token", "queue_id", "channel", "kind", "status", "priority", "line",
            "requester_id", "subject", "language", "created_at", "last_activity_at",
            "first_response_due", "first_response_at", "resolved_at", "closed_at",
            "sla_breach_at",
        ],
    )  # fmt: skip
    message_writer = RowWriter(Message, MESSAGE_COLUMNS)
    progress = Progress(OutputWrapper(sys.stdout), size - have, "seeding tickets")
    now = timezone.now()
    while have < size:
        count = min(BATCH, size - have)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT COALESCE(MAX(id), 0) FROM tickets_contact")
                last_contact = cursor.fetchone()[0]
            contact_writer.write(
                {
                    "full_name": f"Заявитель {have + i}",
                    "email": f"citizen{have + i}@bench.local",
                    "phone": f"+7900{have + i:07d}",
                }
                for i in range(0, count, 3)
            )
            with connection.cursor() as cursor:
                cursor.execute("SELECT id FROM tickets_contact WHERE id > %s", [last_contact])
                contacts = [row[0] for row in cursor.fetchall()]
            numbers = ticket_numbers_reserve(count)
            rows = []
            for i, number in enumerate(numbers):
                created = now - timezone.timedelta(minutes=(size - have - i))
                status = rng.choice(statuses)
                owed = status in ("new", "open")
                due = created + timezone.timedelta(hours=24)
                if owed:  # a third of the owed ones are overdue
                    due = now + timezone.timedelta(hours=rng.randint(-48, 24))
                answered = None if owed else created + timezone.timedelta(hours=2)
                done = status in ("resolved", "closed")
                rows.append(
                    {
                        "number": number,
                        "token": secrets.token_urlsafe(24),
                        "queue_id": queues[i % 4].pk,
                        "channel": rng.choice(channels),
                        "kind": rng.choice(kinds),
                        "status": status,
                        "priority": "normal",
                        "line": "first",
                        "requester_id": contacts[i // 3],
                        "subject": f"Обращение {number}",
                        "language": "ru",
                        "created_at": created,
                        "last_activity_at": created,
                        "first_response_due": due,
                        "first_response_at": answered,
                        "resolved_at": created + timezone.timedelta(hours=3) if done else None,
                        "closed_at": now if status == "closed" else None,
                        "sla_breach_at": due if owed and due > now else None,
                    }
                )
            ticket_writer.write(rows)
            ids = ticket_ids_by_number(numbers[0], numbers[-1])
            message_writer.write(
                {
                    "ticket_id": ids[row["number"]],
                    "author_kind": "requester",
                    "author_id": None,
                    "is_internal": False,
                    "channel": row["channel"],
                    "text": "Здравствуйте! Не приходит код подтверждения.",
                    "created_at": row["created_at"],
                }
                for row in rows
            )
        have += count
        progress.update(count, count * 2 + len(contacts))
    elapsed = progress.finish()
    print(f"seeded to {size:,} tickets in {elapsed:.0f} s; analysing…", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return queues[0]


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
    operator = _operator(queue)
    ApiToken.objects.filter(user=operator).delete()
    _token, operator_raw = api_token_create(user=operator, name="bench", scopes=Scope.values)
    operator_client = Client(HTTP_AUTHORIZATION=f"Bearer {operator_raw}")
    form_client = Client()
    newest = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
    rng = random.Random(1)
    ids = list(
        Ticket.objects.filter(id__gte=max(1, newest - 100_000)).values_list("id", flat=True)[:500]
    )
    operator_ids = list(
        Ticket.objects.filter(id__in=ids, queue__operators_group__user=operator).values_list(
            "id", flat=True
        )
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
        "list as an operator (2 of 4 queues)": lambda: operator_client.get("/api/v1/tickets/"),
        "list ?status=open": lambda: client.get("/api/v1/tickets/?status=open"),
        "list ?sla=breached": lambda: client.get("/api/v1/tickets/?sla=breached"),
        "list ?q=<number>": lambda: client.get(f"/api/v1/tickets/?q=SP-{rng.randint(1, newest)}"),
        "list, 20th page (cursor)": _deep_page(client),
        "retrieve": lambda: client.get(f"/api/v1/tickets/{rng.choice(ids)}/"),
        "retrieve as an operator": lambda: operator_client.get(
            f"/api/v1/tickets/{rng.choice(operator_ids)}/"
        ),
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


def _operator(queue):
    """A first-line operator (not a superuser) working two of the four bench queues."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from tickets.models import Queue

    group, _ = Group.objects.get_or_create(name="bench-api-operators")
    Queue.objects.filter(slug__in=["bench-api-0", "bench-api-1"]).update(operators_group=group)
    user, _ = get_user_model().objects.get_or_create(
        username="bench-api-operator", defaults={"is_staff": True}
    )
    user.groups.add(group)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_ticket", "change_ticket"])
    )
    return user


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
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{size:,} tickets; load average at the end {load} ({os.cpu_count()} cores)")
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
