#!/usr/bin/env python
"""Cost of one audit event: `audit_record` latency alone, and with writers in parallel.

Every append locks the chain-head row, so writers queue behind each other; this shows
what one append costs and how the queue grows with concurrent writers (each thread has
its own connection and appends in autocommit, as a view does):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_audit_bench \\
    .venv/bin/python bench/audit_write.py [--events 500] [--threads 1 4 8]

Prints p50/p95 per append and appends/s per thread count, then runs `audit_verify`.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="appends per thread")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench/audit_write.py needs PostgreSQL: set DATABASE_URL", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    for threads in args.threads:
        _measure(threads, args.events)
    from audit.chain import audit_chain_verify

    started = time.perf_counter()
    report = audit_chain_verify()
    print(f"audit_verify: {report.message} in {time.perf_counter() - started:.1f} s", flush=True)
    return 0 if report.ok else 1


def _measure(threads: int, events: int) -> None:
    from django.db import connection

    from audit.services import audit_record

    timings: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def writer(number: int) -> None:
        mine = []
        audit_record("bench.warmup", address="127.0.0.1")
        barrier.wait()
        for index in range(events):
            started = time.perf_counter()
            audit_record(
                "personal_data.viewed",
                address="127.0.0.1",
                object_ref=f"tickets.ticket:{index}",
                object_label=f"SP-{index:04d}",
                details={"contact": index, "thread": number},
            )
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            timings.extend(mine)
        connection.close()

    pool = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    timings.sort()
    print(
        f"{threads:2d} thread(s): {len(timings) / elapsed:7.0f} appends/s  "
        f"p50 {statistics.median(timings):6.2f} ms  "
        f"p95 {timings[int(len(timings) * 0.95) - 1]:6.2f} ms  "
        f"max {timings[-1]:6.2f} ms  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
