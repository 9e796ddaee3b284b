#!/usr/bin/env python
"""SLA sweep benchmark: N open tickets (default 1,000,000) in a PostgreSQL database.

Prints the EXPLAIN plans of the sweep queries (index scans only), the sweep time
p50/p95/p99 when nothing is due, and the reminders enqueued per second when 10,000 are
due. Uses its own database (created if missing) and an in-memory Celery broker, so only
the sweep itself is measured.

    .venv/bin/python bench/sla_sweep.py [--tickets 1000000] [--due 10000] [--runs 300]
        [--db postgres://postgres@127.0.0.1:5432/hd_notify_bench] [--reseed]
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/hd_notify_bench")
    parser.add_argument("--reseed", action="store_true", help="drop and re-insert the tickets")
    return parser.parse_args()


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def seed(total: int) -> None:
    from django.db import connection

    from tickets.models import Contact, Queue, Ticket

    queue, _ = Queue.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "email_address": "bench@support.example"}
    )
    contact = Contact.objects.filter(email="bench@example.com").first() or (
        Contact.objects.create(full_name="Bench Citizen", email="bench@example.com")
    )
    explicit = {
        "number": "1000000 + g",
        "token": "md5(g::text)",
        "queue_id": str(queue.pk),
        "requester_id": str(contact.pk),
        "channel": "'web'",
        "kind": "'question'",
        "status": "'open'",
        "priority": "'normal'",
        "line": "'first'",
        "subject": "'Bench ticket ' || g",
        "language": "'ru'",
        "created_at": "now() - (g %% 3600) * interval '1 second'",
        "updated_at": "now()",
        "last_activity_at": "now()",
        # Armed and not yet due: the reminder 1–18 h ahead, the deadline 6 h after it.
        "first_response_due": "now() + interval '7 hours' + (g %% 64800) * interval '1 second'",
        "sla_remind_at": "now() + interval '1 hour' + (g %% 64800) * interval '1 second'",
        "sla_breach_at": "now() + interval '7 hours' + (g %% 64800) * interval '1 second'",
    }
    columns, values, params = [], [], []
    for field in Ticket._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column in explicit:
            columns.append(field.column)
            values.append(explicit[field.column])
        elif not field.null:
            columns.append(field.column)
            values.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    chunk = 100_000
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        have = cursor.fetchone()[0]
        start = time.perf_counter()
        for low in range(have, total, chunk):
            high = min(total, low + chunk)
            cursor.execute(
                f"INSERT INTO tickets_ticket ({', '.join(columns)}) "
                f"SELECT {', '.join(values)} FROM generate_series(%s, %s) AS g",
                [*params, low + 1, high],
            )
            print(f"  seeded {high:,} tickets ({time.perf_counter() - start:.0f} s)", flush=True)
        cursor.execute("VACUUM ANALYZE tickets_ticket")


def explain(now) -> None:
    from django.db import connection, transaction

    from tickets.sla_sweep import tickets_due_for_breach, tickets_due_for_reminder

    for label, query in (
        ("reminders", tickets_due_for_reminder(now, 500)),
        ("breaches", tickets_due_for_breach(now, 500)),
    ):
        with transaction.atomic(), connection.cursor() as cursor:
            sql, params = query.query.sql_with_params()
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        print(f"\nEXPLAIN {label}:")
        for line in plan:
            print("   ", line)
        scans = [line for line in plan if "Scan" in line]
        assert not any("Seq Scan on tickets_ticket" in line for line in scans), "full scan!"
        print(f"  -> {'index scans only' if scans else 'no scans'}: {len(scans)} scan node(s)")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    args = parse_args()
    os.environ["DATABASE_URL"] = args.db
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    ensure_database(args.db)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from notifications.models import Notification
    from tickets.models import Ticket, TicketEvent
    from tickets.sla_sweep import sla_sweep

    call_command("migrate", verbosity=0)
    if args.reseed:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE tickets_ticket CASCADE")
    Notification.objects.all().delete()
    print(f"seeding up to {args.tickets:,} open tickets …", flush=True)
    seed(args.tickets)
    # Re-arm everything (a previous run may have cleared some).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket SET sla_remind_at = now() + interval '1 hour', "
            "assignee_id = NULL WHERE sla_remind_at IS NULL OR sla_remind_at <= now()"
        )
    total = Ticket.objects.count()
    armed = Ticket.objects.filter(sla_remind_at__isnull=False).count()
    print(f"{total:,} tickets, {armed:,} with a reminder armed")

    now = timezone.now()
    explain(now)

    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = sla_sweep()
        timings.append((time.perf_counter() - start) * 1000)
        assert result["mails"] == 0, result
    print(
        f"\nsweep with nothing due ({args.runs} runs): p50 {percentile(timings, 50):.2f} ms, "
        f"p95 {percentile(timings, 95):.2f} ms, p99 {percentile(timings, 99):.2f} ms, "
        f"mean {statistics.mean(timings):.2f} ms"
    )

    operator, _ = get_user_model().objects.get_or_create(
        username="bench-operator",
        defaults={"email": "operator@support.example", "is_staff": True},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket SET sla_remind_at = now() - interval '1 minute', "
            "assignee_id = %s WHERE id IN (SELECT id FROM tickets_ticket ORDER BY id LIMIT %s)",
            [operator.pk, args.due],
        )
    events_before = TicketEvent.objects.count()
    print(f"\n{args.due:,} reminders due; sweeping …", flush=True)
    start = time.perf_counter()
    result = sla_sweep()
    elapsed = time.perf_counter() - start
    print(
        f"sweep with {args.due:,} due: {result} in {elapsed:.2f} s → "
        f"{result['reminders'] / elapsed:,.0f} reminders enqueued/s"
    )
    assert result["reminders"] == args.due
    assert Notification.objects.filter(template="sla_reminder").count() == args.due
    assert TicketEvent.objects.count() - events_before == args.due
    start = time.perf_counter()
    again = sla_sweep()
    print(f"second sweep right after: {again} in {(time.perf_counter() - start) * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
