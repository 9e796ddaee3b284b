#!/usr/bin/env python
"""CTI webhook throughput: signed newCall/answer/hangup events through the whole Django
stack (middleware, signature, parsing, the call log, missed calls → call-backs).

Each thread plays calls one after another (its own connection, autocommit as a view);
every fifth call is missed (hangup without answer), so it also creates call-backs:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_tel_bench \\
    .venv/bin/python bench/cti.py [--calls 300] [--threads 1 4]

Prints events/s and p50/p95 per event for each thread count. In-process (Django's test
client, no HTTP server): the figure is the application's cost, not the web server's.
There is no screen pop yet, so nothing is measured from the webhook to a browser.
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("CTI_SECRET", "bench-cti-secret")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="calls per thread")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from tickets.models import Queue

    Queue.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    print(f"database: {connection.vendor}", flush=True)
    for threads in args.threads:
        _measure(threads, args.calls)
    return 0


def _events(call_id: str, number: str, missed: bool) -> list[dict]:
    base = {"callId": call_id, "direction": "in", "from": number, "to": "100", "queue": "bench"}
    events = [{"event": "newCall", **base}]
    if not missed:
        events.append({"event": "answer", **base, "answeringNumber": "201"})
    events.append({"event": "hangup", **base, "cause": "cancel" if missed else "normalClearing"})
    return events


def _measure(threads: int, calls: int) -> None:
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from telephony.signing import cti_signature

    timings: list[float] = []
    failures: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    run = uuid.uuid4().hex[:8]

    def worker(n: int) -> None:
        client = Client()
        mine: list[float] = []
        start.wait()
        try:
            for i in range(calls):
                number = f"+7912{n:03d}{i:04d}"
                for fields in _events(f"{run}-{n}-{i}", number, missed=i % 5 == 0):
                    body = json.dumps(fields).encode()
                    ts = str(int(time.time()))
                    headers = {
                        "X-CTI-Timestamp": ts,
                        "X-CTI-Signature": cti_signature(
                            secret=settings.CTI_SECRET, timestamp=ts, body=body
                        ),
                    }
                    began = time.perf_counter()
                    response = client.post(
                        "/telephony/cti/", body, content_type="application/json", headers=headers
                    )
                    mine.append(time.perf_counter() - began)
                    if response.status_code != 200:
                        with lock:
                            failures.append(response.status_code)
        finally:
            connection.close()
            with lock:
                timings.extend(mine)

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1] if timings else 0.0
    print(
        f"threads={threads}: {len(timings)} events in {elapsed:.1f} s = "
        f"{len(timings) / elapsed:.0f} events/s; per event p50 "
        f"{statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; "
        f"refused {len(failures)}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
