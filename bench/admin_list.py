#!/usr/bin/env python
"""Operator workspace timings: the tickets changelist and the ticket page at 10k/100k/1M.

Seeds with `manage.py seed_demo` (appending until the table holds N tickets), ANALYZEs,
then times each scenario over --requests requests through Django's test Client, logged
in (no HTTP server: this measures Django + PostgreSQL, not the network):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_admin_bench \\
    REDIS_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/admin_list.py --sizes 10000 100000 [1000000] [--requests 50]

Prints p50/p95/max in ms and the query count per scenario and size.
"""

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench/admin_list.py needs PostgreSQL: set DATABASE_URL", file=sys.stderr)
        return 2
    settings.ALLOWED_HOSTS = ["*"]
    print(f"database {connection.settings_dict['NAME']}: migrating…", flush=True)
    call_command("migrate", verbosity=0)

    results = []
    for size in sorted(args.sizes):
        _seed_to(size, args.seed)
        results.append((size, _measure(size, args.requests)))
    _print_table(results)
    return 0


def _seed_to(size: int, seed: int) -> None:
    from django.core.management import call_command
    from django.db import connection

    from tickets.models import Ticket

    have = Ticket.objects.count()
    if have < size:
        print(f"seeding {size - have:,} tickets (have {have:,})…", flush=True)
        started = time.perf_counter()
        call_command("seed_demo", tickets=size - have, seed=seed + have, batch=10_000)
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"tickets: {Ticket.objects.count():,}", flush=True)


def _scenarios(rng: random.Random) -> dict:
    from django.urls import reverse

    from tickets.models import Contact, Ticket

    changelist = reverse("admin:tickets_ticket_changelist")
    newest = Ticket.objects.order_by("-number").values_list("number", flat=True).first()
    numbers = [rng.randint(max(1, newest - 1_000_000), newest) for _ in range(200)]
    ids = list(Ticket.objects.filter(number__in=numbers).values_list("pk", flat=True)[:50]) or [
        Ticket.objects.order_by("-number").values_list("pk", flat=True).first()
    ]
    emails = [
        e for e in Contact.objects.exclude(email="").values_list("email", flat=True)[:200] if e
    ]
    phones = list(Contact.objects.exclude(phone="").values_list("phone", flat=True)[:200])
    surnames = ["Петров", "Иванова", "Смирнов", "Кузнецова", "Соколов", "Попова"]
    words = ["СМС", "оплат", "кружок", "личный кабинет", "бронь"]
    return {
        "changelist, default (superuser)": ("admin", lambda: changelist),
        "changelist, default (first line)": ("operator1", lambda: changelist),
        "changelist, status=open": ("admin", lambda: f"{changelist}?status__exact=open"),
        "changelist, mine (first line)": ("operator1", lambda: f"{changelist}?who=mine"),
        "changelist, SLA breached": ("admin", lambda: f"{changelist}?sla=breached"),
        "changelist, page 50": ("admin", lambda: f"{changelist}?p=50"),
        "search: number sp42": (
            "admin",
            lambda: f"{changelist}?q=sp{rng.choice(numbers)}",
        ),
        "search: e-mail": ("admin", lambda: f"{changelist}?q={rng.choice(emails)}"),
        "search: phone prefix": (
            "admin",
            lambda: f"{changelist}?q={rng.choice(phones)[:8].replace('+', '%2B')}",
        ),
        "search: name": ("admin", lambda: f"{changelist}?q={rng.choice(surnames)}"),
        "search: subject word": ("admin", lambda: f"{changelist}?q={rng.choice(words)}"),
        "ticket page": (
            "admin",
            lambda: reverse("admin:tickets_ticket_change", args=[rng.choice(ids)]),
        ),
    }


def _measure(size: int, requests: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    rng = random.Random(size)
    clients = {}
    for username in ("admin", "operator1"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=username))
        clients[username] = client
    out = {}
    for name, (user, url_for) in _scenarios(rng).items():
        client = clients[user]
        for _ in range(3):  # warm caches, connections, template loading
            client.get(url_for())
        # Count with an execute wrapper: request_started resets connection.queries.
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(url_for())
        assert response.status_code == 200, (name, response.status_code)
        timings, sql_times = [], []
        sql_ms = [0.0]

        def clock(execute, sql, params, many, context, sql_ms=sql_ms):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                sql_ms[0] += (time.perf_counter() - started) * 1000

        with connection.execute_wrapper(clock):
            for _ in range(requests):
                url = url_for()
                sql_ms[0] = 0.0
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                sql_times.append(sql_ms[0])
                assert response.status_code == 200, (name, url, response.status_code)
        timings.sort()
        row = {
            "p50": statistics.median(timings),
            "p95": timings[max(0, int(len(timings) * 0.95) - 1)],
            "max": timings[-1],
            "sql_p50": statistics.median(sql_times),
            "queries": len(executed),
        }
        out[name] = row
        print(
            f"  {size:>9,} {name:<34} p50 {row['p50']:7.1f} ms  p95 {row['p95']:7.1f} ms  "
            f"max {row['max']:7.1f} ms  SQL p50 {row['sql_p50']:6.1f} ms  "
            f"{row['queries']:2d} queries  (load {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return out


def _print_table(results) -> None:
    sizes = [size for size, _ in results]
    header = (
        "| scenario | "
        + " | ".join(f"{s:,}: p50 / p95 ms, SQL p50 ms (queries)" for s in sizes)
        + " |"
    )
    print()
    print(header)
    print("|---" * (len(sizes) + 1) + "|")
    for name in results[0][1]:
        cells = []
        for _size, rows in results:
            row = rows[name]
            cells.append(
                f"{row['p50']:.0f} / {row['p95']:.0f}, {row['sql_p50']:.1f} ({row['queries']})"
            )
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
