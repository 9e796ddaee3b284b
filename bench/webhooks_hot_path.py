#!/usr/bin/env python
"""What outgoing webhooks add to a chat line (the desk's hottest write path).

Stores `--lines` citizen lines through `chat.lines.chat_citizen_say` three ways:

* `disconnected`: the `history_recorded` receiver unplugged (the desk before webhooks);
* `none`: the receiver plugged in, no subscription (its 5-second cached list is empty);
* `subscribed`: one active subscription to `message.created` (a delivery row and its
  payload per line; the publish to Celery is replaced by a no-op, so no HTTP is made).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_webhooks_bench \\
    .venv/bin/python bench/webhooks_hot_path.py [--lines 2000] [--rounds 3]

Prints, per mode, the median over rounds of the wall-clock p50/p95 per line, the CPU
time per line, and the statements per line.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["REDIS_URL"] = ""  # in-memory channel layer: the push is not what is measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000, help="lines per mode and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}, {args.lines} lines x {args.rounds} rounds", flush=True)
    results: dict[str, list[tuple[float, float, float, float]]] = {}
    modes = ["disconnected", "none", "subscribed"]
    for number in range(args.rounds):
        # A different order each round: no mode always runs first (or on a warmer cache).
        for mode in modes[number % 3 :] + modes[: number % 3]:
            results.setdefault(mode, []).append(_measure(mode, args.lines))
    print(f"{'mode':<13} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/line':>12} {'stmts/line':>11}")
    for mode in modes:
        rounds = results[mode]
        p50, p95, cpu, statements = (statistics.median(r[i] for r in rounds) for i in range(4))
        print(f"{mode:<13} {p50:>8.3f} {p95:>8.3f} {cpu:>12.3f} {statements:>11.1f}")
    return 0


def _chat():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.utils.crypto import get_random_string

    from chat import services
    from chat.models import OperatorPresence
    from tickets.models import Queue

    queue, _ = Queue.objects.get_or_create(slug="bench-webhooks", defaults={"name": "Bench"})
    operator = get_user_model().objects.create_user(
        username=f"bench-{get_random_string(8)}", is_staff=True
    )
    operator.user_permissions.add(Permission.objects.get(codename="operate_chat"))
    operator = get_user_model().objects.get(pk=operator.pk)
    services.presence_set(
        user=operator, availability=OperatorPresence.Availability.ONLINE, max_chats=1000
    )
    session = services.chat_start(
        queue=queue, full_name="Петрова Мария", email="maria@example.com", text="Здравствуйте"
    )
    session.refresh_from_db()
    if session.operator_id == operator.pk:  # routed to the operator already (CHAT_ROUTING=auto)
        return session
    return services.chat_accept(session_id=session.pk, operator=operator)


def _measure(mode: str, lines: int) -> tuple[float, float, float, float]:
    from django.db import connection

    from chat.lines import chat_citizen_say
    from tickets.signals import history_recorded
    from webhooks import receivers, services
    from webhooks.models import WebhookSubscription

    WebhookSubscription.objects.filter(name="bench").delete()
    if mode == "subscribed":
        WebhookSubscription.objects.create(
            name="bench",
            url="https://portal.example.org/hook",
            secret="whsec_bench",
            event_types=["message.created"],
        )
    services.subscriptions_forget()
    plugged = mode != "disconnected"
    if not plugged:
        history_recorded.disconnect(dispatch_uid="webhooks_history")
    schedule = services.deliveries_schedule
    services.deliveries_schedule = lambda ids: len(ids)  # no broker, no HTTP
    try:
        chat = _chat()
        chat_citizen_say(session_id=chat.pk, seq=1, text="разогрев")  # warm-up
        timings = []
        statements = 0

        def count(execute, sql, params, many, context):
            nonlocal statements
            statements += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            cpu_started = time.process_time()
            for seq in range(2, lines + 2):
                started = time.perf_counter()
                chat_citizen_say(session_id=chat.pk, seq=seq, text=f"Строка {seq}: код не пришёл")
                timings.append((time.perf_counter() - started) * 1000)
            cpu = (time.process_time() - cpu_started) * 1000 / lines
        signal_us = _signal_cost(mode)
    finally:
        services.deliveries_schedule = schedule
        if not plugged:
            history_recorded.connect(receivers.on_history_recorded, dispatch_uid="webhooks_history")
        WebhookSubscription.objects.filter(name="bench").delete()
        services.subscriptions_forget()
    timings.sort()
    print(f"  {mode}: history_recorded.send alone {signal_us:.1f} µs", flush=True)
    p50 = timings[len(timings) // 2]
    p95 = timings[int(len(timings) * 0.95)]
    return p50, p95, cpu, statements / lines


def _signal_cost(mode: str, sends: int = 20000) -> float:
    """Microseconds for `history_recorded.send` of one entry with nothing subscribed
    (disconnected / none); in `subscribed` mode this would write rows, so it is skipped."""
    from tickets.models import TicketEvent
    from tickets.signals import history_recorded

    if mode == "subscribed":
        return float("nan")
    event = TicketEvent(ticket_id=1, kind=TicketEvent.Kind.MESSAGE)
    started = time.perf_counter()
    for _ in range(sends):
        history_recorded.send(sender=TicketEvent, events=[event])
    return (time.perf_counter() - started) * 1e6 / sends


if __name__ == "__main__":
    sys.exit(main())
