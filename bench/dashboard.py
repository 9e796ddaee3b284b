#!/usr/bin/env python
"""Supervisor dashboard at scale: page and JSON endpoint latency at 10k/100k/1M tickets.

    .venv/bin/python bench/dashboard.py                       # 10k and 100k
    .venv/bin/python bench/dashboard.py --sizes 10000,100000,1000000 --requests 20

Uses its own PostgreSQL database (default hd_dash_bench, dropped and re-created), fills it
with `manage.py seed_demo` (tickets over the last 90 days) in steps up to each size, then
times GET /dashboard/ and /dashboard/data/ in-process (Django test client, no network)
for the 7- and 30-day periods, with the figure cache off (every request computes
everything) and on (what a minute-by-minute auto-refresh mostly hits).
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def psql(url: str, sql: str) -> None:
    admin = url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-q", "-c", sql], check=True)


def manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env)


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def measure(client, url: str, requests: int) -> dict[str, float]:
    client.get(url)  # warm connections, templates, translations
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return {
        "p50": percentile(times, 0.5),
        "p95": percentile(times, 0.95),
        "p99": percentile(times, 0.99),
        "max": max(times),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/hd_dash_bench"
    )
    parser.add_argument("--keep", action="store_true", help="reuse the database as it is")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = args.database_url
    name = url.rsplit("/", 1)[1]

    seeded = 0
    if not args.keep:
        print(f"re-creating database {name}", flush=True)
        psql(url, f'DROP DATABASE IF EXISTS "{name}"')
        psql(url, f'CREATE DATABASE "{name}"')
        manage(url, "migrate", "--noinput", "-v", "0", "--skip-checks")

    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tickets.models import Ticket

    setup_test_environment()
    if args.keep:
        seeded = Ticket.objects.count()

    print(
        f"{'tickets':>9} {'period':>6} {'endpoint':>8} {'cache':>5} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'in period':>10}"
    )
    for size in sizes:
        if size > seeded:
            print(f"seeding {size - seeded} tickets (total {size})", flush=True)
            started = time.perf_counter()
            manage(url, "seed_demo", "--tickets", str(size - seeded), "--seed", str(size))
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            seeded = size
        from tickets.dashboard.snapshots import dashboard_snapshots_refresh

        settings.DASHBOARD_CACHE_SECONDS = 30
        started = time.perf_counter()
        dashboard_snapshots_refresh()
        print(
            f"  beat warm-up of the standard views (today, 7d, 30d): "
            f"{time.perf_counter() - started:.2f} s",
            flush=True,
        )
        user, _ = get_user_model().objects.get_or_create(
            username="bench-chief", defaults={"is_staff": True, "is_superuser": True}
        )
        client = Client()
        client.force_login(user)
        for period, days in (("7d", 7), ("30d", 30)):
            from datetime import timedelta

            from django.utils import timezone

            in_period = Ticket.objects.filter(
                created_at__gte=timezone.now() - timedelta(days=days)
            ).count()
            for cache_seconds in (0, 30):
                settings.DASHBOARD_CACHE_SECONDS = cache_seconds
                for endpoint, path in (("page", "/dashboard/"), ("json", "/dashboard/data/")):
                    figures = measure(client, f"{path}?period={period}", args.requests)
                    cache = "on" if cache_seconds else "off"
                    print(
                        f"{size:>9} {period:>6} {endpoint:>8} {cache:>5} "
                        f"{figures['p50']:>8.1f} {figures['p95']:>8.1f} {figures['p99']:>8.1f} "
                        f"{figures['max']:>8.1f} {in_period:>10}",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
