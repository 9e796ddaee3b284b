#!/usr/bin/env python
"""Outbox throughput: mails/s from committed outbox rows, through a real Celery worker,
to a local SMTP sink (aiosmtpd), on PostgreSQL.

    .venv/bin/python bench/outbox.py [--mails 1000] [--concurrency 2]
        [--broker redis|filesystem] [--db postgres://postgres@127.0.0.1:5432/hd_notify_outbox]

Starts (and stops) its own redis-server on 127.0.0.1:8392 (or a file-system broker in
a temporary folder), the SMTP sink on 127.0.0.1:8331 and the worker. Checks that every
row ends `sent` and that the sink got each Message-ID exactly once.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REDIS_PORT = 8392
SMTP_PORT = 8331


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--broker", choices=["redis", "filesystem"], default="redis")
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/hd_notify_outbox")
    return parser.parse_args()


class Sink:
    def __init__(self):
        self.message_ids = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                with self.lock:
                    self.message_ids.append(line.split(b":", 1)[1].strip().decode())
                break
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.message_ids)


def main() -> int:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    if args.broker == "redis":
        broker_url = f"redis://127.0.0.1:{REDIS_PORT}/0"
        redis = subprocess.Popen(
            ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(workdir)],
            stdout=subprocess.DEVNULL,
        )
        time.sleep(0.5)
    else:
        broker_url = "filesystem://"
        redis = None
    env = {
        **os.environ,
        "DATABASE_URL": args.db,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_FOLDER": str(workdir / "broker"),
        "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

    import psycopg

    name = args.db.rsplit("/", 1)[1]
    with psycopg.connect(args.db.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname=%s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')

    import django

    django.setup()
    from aiosmtpd.controller import Controller
    from django.core.management import call_command
    from django.db import transaction

    from notifications.models import Notification
    from notifications.services import notification_enqueue

    call_command("migrate", verbosity=0)
    Notification.objects.all().delete()

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "helpdesk", "worker"]
        + [f"--concurrency={args.concurrency}", "--loglevel=WARNING", "--without-gossip"]
        + ["--without-mingle", "--without-heartbeat"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        time.sleep(4)  # worker start-up
        print(
            f"enqueueing {args.mails:,} mails ({args.broker} broker, "
            f"{args.concurrency} worker processes) …",
            flush=True,
        )
        start = time.perf_counter()
        with transaction.atomic():
            for n in range(args.mails):
                notification_enqueue(
                    recipient=f"citizen{n}@example.com",
                    template="auto_reply",
                    kind=Notification.Kind.AUTO_REPLY,
                    idempotency_key=f"bench:{n}",
                    context={
                        "number": f"SP-{n:04d}",
                        "name": "Бенч",
                        "due": "завтра",
                        "sla_hours": 24,
                        "status_url": "http://localhost/",
                    },
                    reference=f"SP-{n:04d}",
                )
        committed = time.perf_counter()
        print(
            f"  enqueued + published in {committed - start:.2f} s "
            f"({args.mails / (committed - start):,.0f}/s)",
            flush=True,
        )
        last, last_time = 0, time.perf_counter()
        while sink.count() < args.mails:
            time.sleep(0.2)
            if time.perf_counter() - last_time > 5:
                print(f"  {sink.count():,} delivered", flush=True)
                if sink.count() == last:
                    raise SystemExit("no progress for 5 s; see " + str(workdir / "worker.log"))
                last, last_time = sink.count(), time.perf_counter()
        done = time.perf_counter()
        time.sleep(2)
        ids = sink.message_ids
        sent = Notification.objects.filter(status=Notification.Status.SENT).count()
        print(
            f"delivered {len(ids):,} mails in {done - committed:.2f} s after commit → "
            f"{args.mails / (done - committed):,.1f} mails/s "
            f"(end to end incl. enqueue {args.mails / (done - start):,.1f} mails/s)"
        )
        print(
            f"rows sent: {sent:,}; unique Message-IDs at the sink: {len(set(ids)):,}; "
            f"duplicates: {len(ids) - len(set(ids))}"
        )
        assert sent == args.mails and len(set(ids)) == len(ids) == args.mails
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
        log.close()
        controller.stop()
        if redis:
            redis.terminate()
            redis.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
