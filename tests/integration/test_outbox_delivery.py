"""The outbox end to end: PostgreSQL + a private Redis + a real Celery worker + an SMTP sink.

Nothing lost, nothing sent twice: an appeal gets exactly one auto-reply; with Redis down
the appeal is still accepted and the auto-reply arrives once Redis is back and the
sweeper runs; a worker killed mid-send neither loses nor duplicates the mail; two SLA
sweeps at once send each reminder once.
"""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from notifications.delivery import outbox_sweep
from notifications.models import Notification
from tests.factories import TicketFactory, UserFactory
from tickets.models import Ticket
from tickets.services import ticket_create

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server binary"),
]

ROOT = Path(settings.BASE_DIR)
REDIS_PORT = 8390
SMTP_PORT = 8321
WAIT = 60  # seconds to wait for something that should happen in well under a second


def wait_for(predicate, timeout=WAIT, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {predicate}")


# --- SMTP sink --------------------------------------------------------------------


class SinkHandler:
    """Collects every accepted message. `stall_ehlo` holds the next EHLO (a slow server)."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.stall_ehlo = threading.Event()
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.stall_ehlo.is_set():
            self.stall_ehlo.clear()
            self.stalled.set()
            for _ in range(1200):  # until the test ends (or two minutes)
                if self.release.is_set():
                    break
                await asyncio.sleep(0.1)
        return responses

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def subjects(self):
        with self.lock:
            return [str(m["Subject"]).strip() for m in self.messages]


@pytest.fixture
def smtp_sink():
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield handler
    handler.release.set()
    controller.stop()


# --- Private Redis ----------------------------------------------------------------


class PrivateRedis:
    def __init__(self, port, workdir):
        self.port = port
        self.workdir = workdir
        self.process = None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._ping)

    def _ping(self):
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return result.stdout.strip() == "PONG"

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path):
    redis = PrivateRedis(REDIS_PORT, tmp_path)
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def broker(private_redis, settings):
    """Point this process's Celery app at the private Redis and really publish."""
    from helpdesk.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    old = app.conf.broker_url
    app.conf.task_always_eager = False
    app.conf.broker_url = private_redis.url
    _reset_pools(app)
    yield private_redis
    _reset_pools(app)
    app.conf.broker_url = old


def _reset_pools(app):
    """Forget pooled broker connections so the next publish uses the current broker_url."""
    from kombu import pools

    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()  # kombu keeps connection/producer pools globally, keyed by URL


# --- Worker -----------------------------------------------------------------------


def _worker_env(redis_url):
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "EMAIL_TIMEOUT": "300",
        "CONN_MAX_AGE": "0",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


class Worker:
    def __init__(self, redis_url, log_path):
        self.redis_url = redis_url
        self.log_path = log_path
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "helpdesk",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--hostname=notify-test-{time.monotonic_ns()}@localhost",
            ],
            cwd=ROOT,
            env=_worker_env(self.redis_url),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the children too
        )
        wait_for(lambda: b" ready." in self.log_path.read_bytes())

    def kill(self):
        """SIGKILL the whole worker (main process and pool children): no clean-up at all."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
            self.log.close()


@pytest.fixture
def worker_factory(broker, tmp_path):
    workers = []

    def start():
        worker = Worker(broker.url, tmp_path / f"worker{len(workers)}.log")
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


# --- Helpers ----------------------------------------------------------------------


def _appeal(queue, contact, subject="Не приходит СМС-код"):
    return ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject=subject, text="?"
    )


def _sweep_until(predicate, *, start=None):
    """Run the outbox sweeper (as beat would) until `predicate()` holds."""
    moment = [start or timezone.now()]

    def step():
        moment[0] += timedelta(seconds=settings.OUTBOX_REQUEUE_AFTER + 1)
        outbox_sweep(now=moment[0])
        return predicate()

    return wait_for(step, interval=0.5)


def _quiet_sweeps(times=3):
    """More sweeps well in the future: nothing owed may be sent again."""
    # The sink has a mail a moment before the worker records it as sent; a sweep "an hour
    # later" in that moment would take the row for one whose worker died mid-hand-off.
    wait_for(lambda: not Notification.objects.filter(status=Notification.Status.SENDING).exists())
    moment = timezone.now() + timedelta(hours=1)
    for _ in range(times):
        moment += timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT + 1)
        outbox_sweep(now=moment)
    time.sleep(2)


# --- Tests ------------------------------------------------------------------------


def test_appeal_gets_exactly_one_auto_reply_through_a_real_worker(
    queue, contact, smtp_sink, worker_factory
):
    worker_factory()
    ticket = _appeal(queue, contact)

    wait_for(lambda: smtp_sink.subjects())
    _quiet_sweeps()

    (message,) = smtp_sink.messages
    assert str(message["Subject"]).strip().startswith(f"[{ticket.reference}] ")
    assert message["Auto-Submitted"] == "auto-replied"
    row = Notification.objects.get(reference=ticket.reference)
    assert row.status == Notification.Status.SENT
    assert message["Message-ID"] == row.message_id


def test_appeal_accepted_with_redis_down_and_auto_reply_sent_once_it_is_back(
    queue, contact, smtp_sink, worker_factory, broker
):
    worker_factory()
    broker.stop()

    ticket = _appeal(queue, contact)  # must neither fail nor hang

    row = Notification.objects.get(reference=ticket.reference)
    assert row.status == Notification.Status.PENDING
    assert smtp_sink.messages == []

    broker.start()
    _sweep_until(lambda: smtp_sink.subjects())
    _quiet_sweeps()

    assert len(smtp_sink.messages) == 1
    assert str(smtp_sink.messages[0]["Subject"]).strip().startswith(f"[{ticket.reference}] ")
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT


def test_worker_killed_while_sending_neither_loses_nor_duplicates(
    queue, contact, smtp_sink, worker_factory
):
    first = worker_factory()
    smtp_sink.stall_ehlo.set()  # the mail server hangs while the worker talks to it

    ticket = _appeal(queue, contact)
    wait_for(smtp_sink.stalled.is_set)
    row = Notification.objects.get(reference=ticket.reference)
    assert row.status == Notification.Status.SENDING
    first.kill()

    worker_factory()
    _sweep_until(
        lambda: smtp_sink.subjects(),
        start=timezone.now() + timedelta(seconds=settings.OUTBOX_SENDING_TIMEOUT),
    )
    _quiet_sweeps()

    assert len(smtp_sink.messages) == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 2
    assert smtp_sink.messages[0]["Message-ID"] == row.message_id


def test_two_concurrent_sla_sweeps_mail_each_reminder_once(
    queue, smtp_sink, worker_factory, broker
):
    operator = UserFactory(username="sla-operator", email="operator@support.example")
    now = timezone.now()
    tickets = TicketFactory.create_batch(30, queue=queue, assignee=operator, sla_remind_at=now)
    worker_factory()

    env = _worker_env(broker.url)
    sweeps = [
        subprocess.Popen(
            [sys.executable, "manage.py", "sla_sweep", "--batch", "4"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [sweep.communicate(timeout=WAIT)[0] for sweep in sweeps]
    assert all(sweep.returncode == 0 for sweep in sweeps)

    wait_for(lambda: len(smtp_sink.messages) >= len(tickets))
    _quiet_sweeps()

    numbers = sorted(str(m["Subject"]).strip().split("]")[0].strip("[") for m in smtp_sink.messages)
    assert numbers == sorted(t.reference for t in tickets)
    reminded = sum(int(out.split("reminders=")[1].split()[0]) for out in outputs)
    assert reminded == len(tickets)
