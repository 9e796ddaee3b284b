"""E-mail intake benchmark: messages/s, CPU and statements per message, peak memory,
through the three code paths.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_email \\
        .venv/bin/python bench/email_ingest.py [--count 2000] [--workers 1,2] [--pipe 100]

1. batch: `email_ingest_batch` on chunks of 50, as IMAP polling runs it, in 1 and in
   N worker processes (tasks of one chunk each, handed out as a Celery pool with
   concurrency N would); also `email_ingest` one message per call (webhook);
2. imap: the same kinds of messages APPENDed to a throwaway Dovecot (127.0.0.1, port
   8400-8499), then `mailboxes_poll_parallel(workers=N)` (what `poll_mailboxes
   --workers N` runs: N processes, each its own IMAP connection and UID shard) fetches,
   ingests and deletes them;
3. pipe: `manage.py ingest_email FILE`, one process per message (MTA pipe).

Messages: the shared corpus (../shared/corpus/mail, MAIL_CORPUS_DIR) with fresh
Message-IDs, plus generated ones: Russian plain text in utf-8/koi8-r/cp1251, HTML-only,
attachments and inline images, replies (In-Reply-To), forwarded messages, auto-replies.
The database named in DATABASE_URL is migrated and its tickets are left in place.
Load-independent figures: Python CPU per message (all worker processes), PostgreSQL
backend CPU per message (from /proc, same host only) and SQL statements per message.
"""

import argparse
import logging
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
MEDIA = Path(tempfile.mkdtemp(prefix="hd-bench-media-"))
os.environ["MEDIA_ROOT"] = str(MEDIA)
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
# The throwaway Dovecot of the IMAP run has no certificate.
os.environ.setdefault("IMAP_ALLOW_INSECURE", "true")
# Auto-reply tasks go to a throwaway filesystem broker (no worker sends them).
BROKER = tempfile.mkdtemp(prefix="hd-bench-broker-")
os.environ.setdefault("CELERY_BROKER_FOLDER", BROKER)

import django  # noqa: E402

django.setup()
# One INFO line per auto-reply the hourly cap suppresses (the corpus senders recur).
logging.getLogger("notifications.services").setLevel(logging.WARNING)

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from helpdesk.testing import dovecot  # noqa: E402

CORPUS = Path(os.environ.get("MAIL_CORPUS_DIR", ROOT.parent / "shared" / "corpus" / "mail"))
TEXTS = [
    "Здравствуйте! Не приходит СМС-код при входе в личный кабинет.",
    "Добрый день. Запись к врачу не сохраняется, выдаёт ошибку 500.",
    "Прошу разъяснить порядок получения справки через портал.",
    "Не могу оплатить госпошлину картой, страница зависает.",
]
NAMES = ["Иванов Иван", "Петрова Мария", "Сидоров Пётр", "Кузнецова Анна"]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_id(raw: bytes, n: int) -> bytes:
    """Give a corpus message a unique Message-ID so it is not a duplicate of itself."""
    mid = f"<bench-{n}-{uuid.uuid4().hex}@corpus.example>".encode()
    pattern = re.compile(rb"^Message-I[Dd]:[^\n]*(\n[ \t][^\n]*)*\n", re.M | re.I)
    raw, found = pattern.subn(b"Message-ID: " + mid + b"\n", raw, count=1)
    if not found:
        raw = b"Message-ID: " + mid + b"\n" + raw
    return raw


def generated(n: int, previous: list[tuple[str, str]], tag: str) -> tuple[bytes, tuple[str, str]]:
    kind = n % 8
    # A citizen per message (replies reuse an earlier sender): with a few hundred
    # senders writing dozens of mails each, the hourly auto-reply cap suppressed most
    # auto-replies, which then cost no broker publish, and flattered the figures.
    # Each call of build_messages writes as citizens never seen before (`tag`): reused
    # addresses meet the hourly cap on a second run within the hour, and a suppressed
    # auto-reply is cheaper than a sent one. So every run also creates its contacts.
    who = n
    sender = f"{NAMES[who % len(NAMES)]} <citizen{who}.{tag}@example.com>"
    msg = EmailMessage()
    mid = make_msgid(domain="bench.example")
    msg["From"] = sender
    msg["To"] = "navigator@support.example"
    msg["Message-ID"] = mid
    msg["Subject"] = f"Обращение {n}: {TEXTS[n % len(TEXTS)][:30]}"
    text = TEXTS[n % len(TEXTS)] + f"\n\nНомер заявления {n}.\n\n-- \nС уважением, {NAMES[who % 4]}"
    if kind == 1 and previous:
        # A reply from the same citizen to their earlier message (threads onto it).
        same = [p for p in previous if p[0] == sender] or previous
        msg.replace_header("From", same[-1][0])
        msg["In-Reply-To"] = same[-1][1]
        msg.replace_header("Subject", "Re: " + msg["Subject"])
        text = "Дополняю: проблема сохраняется.\n\nOn Mon, 1 Jan 2024, Support wrote:\n> ..."
    if kind == 2:
        msg.set_content(text, charset="koi8-r", cte="8bit")
    elif kind == 3:
        msg.set_content(text, charset="windows-1251", cte="quoted-printable")
    elif kind == 4:
        msg.set_content(
            "<p>" + text.replace("\n", "<br>") + "</p><script>x()</script>", subtype="html"
        )
    else:
        msg.set_content(text)
    if kind == 5:
        msg.add_attachment(
            b"%PDF-1.4\n" + os.urandom(20_000),
            maintype="application",
            subtype="pdf",
            filename="заявление №5.pdf",
        )
        msg.add_attachment(os.urandom(3000), maintype="image", subtype="png", filename="скрин.png")
    if kind == 6:
        inner = EmailMessage()
        inner["From"] = "other@example.com"
        inner["Subject"] = "Исходное письмо"
        inner.set_content("Пересылаемый текст")
        msg.add_attachment(inner)
    if kind == 7:
        msg["Auto-Submitted"] = "auto-replied"
        msg.replace_header("Subject", "Автоответ: " + msg["Subject"])
    return msg.as_bytes(), (msg["From"], mid)


def build_messages(count: int) -> list[bytes]:
    tag = uuid.uuid4().hex[:8]
    corpus = []
    if CORPUS.is_dir():
        corpus = [
            p.read_bytes()
            for p in sorted(CORPUS.rglob("*"))
            if p.is_file() and p.name not in ("MANIFEST.md", "expected.jsonl")
        ]
    messages, previous = [], []
    for n in range(count):
        if corpus and n % 5 == 0:
            messages.append(fresh_id(corpus[(n // 5) % len(corpus)], n))
        else:
            raw, ref = generated(n, previous, tag)
            previous.append(ref)
            messages.append(raw)
    return messages


def setup_db():
    print(f"database: {connection.vendor} {settings.DATABASES['default'].get('NAME')}")
    call_command("migrate", verbosity=0)
    from tickets.models import Queue

    Queue.objects.get_or_create(
        slug="navigator",
        defaults={"name": "Сайт Навигатора", "email_address": "navigator@support.example"},
    )


def report(label: str, results, seconds: float, rss_before: float, cpu: dict | None = None):
    statuses = {}
    for r in results:
        statuses[r] = statuses.get(r, 0) + 1
    if cpu:
        # Per message, whatever the load: Python (parse + ORM) in every worker process,
        # the PostgreSQL backends serving them, and the statements they sent.
        n = len(results)
        print(
            f"  {label}: {cpu['python'] / n * 1000:.2f} ms Python CPU, "
            f"{cpu['postgres'] / n * 1000:.2f} ms PostgreSQL CPU, "
            f"{cpu['statements'] / n:.1f} statements per message"
        )
    load = os.getloadavg()[0]
    print(f"  load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{label}: {len(results)} messages in {seconds:.2f} s = "
        f"{len(results) / seconds:.1f} msg/s; "
        f"peak RSS {rss_mib():.0f} MiB (+{rss_mib() - rss_before:.0f}); {statuses}"
    )


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (0 if unknown)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """Python CPU, backend CPU and statements of the code run inside it (this process)."""

    def __init__(self):
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        return execute(sql, params, many, context)

    def __enter__(self):
        self.pg = _backend_cpu()
        self.cpu = time.process_time()
        self.wrapper = connection.execute_wrapper(self)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        self.wrapper.__exit__(*exc)
        self.figures = {
            "python": time.process_time() - self.cpu,
            "postgres": _backend_cpu() - self.pg,
            "statements": self.statements,
        }


def _ingest_chunk(chunk: list[bytes]) -> tuple[list[str], dict]:
    """One worker task: one chunk through `email_ingest_batch`."""
    from tickets.intake.ingest import email_ingest_batch

    with Meter() as meter:
        statuses = [str(r.status) for r in email_ingest_batch(chunk, source="imap")]
    return statuses, meter.figures


def _worker_ready(_=None) -> int:
    connection.ensure_connection()
    return os.getpid()


def run_batch(messages: list[bytes], size: int, workers: int) -> None:
    """`email_ingest_batch` on chunks of `size`, in `workers` processes."""
    import multiprocessing

    rss = rss_mib()
    chunks = [messages[i : i + size] for i in range(0, len(messages), size)]
    results, totals = [], {"python": 0.0, "postgres": 0.0, "statements": 0}
    connection.close()  # the children open their own
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None
    try:
        if pool is not None:
            pool.map(_worker_ready, range(workers * 4))  # forked and connected before timing
            tasks = pool.imap(_ingest_chunk, chunks)
        else:
            tasks = map(_ingest_chunk, chunks)
        started = time.perf_counter()
        for i, (statuses, figures) in enumerate(tasks):
            results += statuses
            for key in totals:
                totals[key] += figures[key]
            if i % 10 == 9:
                rate = len(results) / (time.perf_counter() - started)
                print(f"  batch {len(results)}/{len(messages)} {rate:.0f} msg/s")
        seconds = time.perf_counter() - started
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    label = f"batch (email_ingest_batch, {size} per commit, {workers} worker process"
    report(label + ("es)" if workers > 1 else ")"), results, seconds, rss, totals)


def run_single(messages: list[bytes]) -> None:
    """`email_ingest` one message per call: two commits each (webhook, pipe in-process)."""
    from tickets.intake.ingest import email_ingest

    rss = rss_mib()
    started = time.perf_counter()
    with Meter() as meter:
        results = [str(email_ingest(raw, source="webhook").status) for raw in messages]
    seconds = time.perf_counter() - started
    report("single (email_ingest, 2 commits each)", results, seconds, rss, meter.figures)


def start_dovecot() -> tuple[subprocess.Popen, int, Path]:
    """The tests' throwaway Dovecot (`helpdesk.testing.dovecot`) on a free port."""
    root = Path(tempfile.mkdtemp(prefix="hd-bench-dovecot-"))
    port = dovecot.free_port()
    return dovecot.dovecot_start(root, port), port, root


def run_imap(messages: list[bytes], workers: int) -> None:

    from tickets.intake.imap import mailboxes_poll_parallel
    from tickets.models import Mailbox, Queue

    process, port, root = start_dovecot()
    mailbox = None
    try:
        client = dovecot.imap_client({"host": "127.0.0.1", "port": port})
        started = time.perf_counter()
        for raw in messages:
            client.append("INBOX", None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        client.logout()
        print(f"  appended {len(messages)} to dovecot in {time.perf_counter() - started:.1f} s")
        # Only this mailbox is active while the poll runs (mailboxes_poll takes every
        # active one); it is switched off again at the end.
        Mailbox.objects.filter(is_active=True).update(is_active=False)
        mailbox, _ = Mailbox.objects.update_or_create(
            username=dovecot.USER,
            host="127.0.0.1",
            defaults={
                "queue": Queue.objects.get(slug="navigator"),
                "port": port,
                "security": Mailbox.Security.NONE,
                "password": dovecot.PASSWORD,
                "is_active": True,
            },
        )
        rss = rss_mib()
        cpu = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        if workers > 1:
            stats = mailboxes_poll_parallel(workers=workers)[str(mailbox)]
        else:
            with Meter() as meter:
                stats = mailboxes_poll_parallel(workers=1)[str(mailbox)]
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        python = time.process_time() - cpu
        python += after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        fetched = stats["fetched"]
        extra = ""
        if workers == 1:
            extra = (
                f", {meter.figures['postgres'] / max(fetched, 1) * 1000:.2f} ms PostgreSQL CPU,"
                f" {meter.figures['statements'] / max(fetched, 1):.1f} statements"
            )
        print(
            f"  imap: {python / max(fetched, 1) * 1000:.2f} ms Python CPU{extra} per message; "
            f"load {os.getloadavg()[0]:.1f}"
        )
        print(
            f"imap (fetch + ingest + delete, {workers} worker process"
            f"{'es' if workers > 1 else ''}): {fetched} messages in {seconds:.2f} s = "
            f"{fetched / seconds:.1f} msg/s; peak RSS {rss_mib():.0f} MiB "
            f"(+{rss_mib() - rss:.0f}); {stats}"
        )
    finally:
        if mailbox is not None:
            Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
        dovecot.dovecot_stop(process)
        shutil.rmtree(root, ignore_errors=True)


def run_pipe(messages: list[bytes]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hd-bench-pipe-"))
    outputs = []
    started = time.perf_counter()
    for i, raw in enumerate(messages):
        path = folder / f"{i}.eml"
        path.write_bytes(raw)
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "ingest_email", str(path)],
            capture_output=True,
            text=True,
            env=os.environ,
        )
        outputs.append(
            f"exit {done.returncode}" if done.returncode else done.stdout.split(" ")[0].strip()
        )
    seconds = time.perf_counter() - started
    kinds = ["ticket" if o.startswith(settings.TICKET_PREFIX) else o for o in outputs]
    report("pipe (one process per message)", kinds, seconds, rss_mib())
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    # SIGTERM (e.g. `timeout`) runs the finally blocks: Dovecot stopped, temp dirs gone.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--pipe", type=int, default=100)
    parser.add_argument("--no-imap", action="store_true")
    parser.add_argument("--no-batch", action="store_true")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--single", type=int, default=300, help="messages for email_ingest")
    parser.add_argument(
        "--workers", default="1,2", help="worker processes for batch and IMAP, e.g. 1,2"
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=300,
        help="messages ingested untimed first (caches, connections, the corpus senders)",
    )
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    random.seed(5)
    setup_db()
    print(f"building {args.count} messages (corpus: {CORPUS.is_dir()}) ...")
    messages = build_messages(args.count)
    print(f"  {sum(map(len, messages)) / 1024 / 1024:.1f} MiB in total")
    try:
        if args.warmup:
            from tickets.intake.ingest import email_ingest_batch

            warmup = build_messages(args.warmup)
            for i in range(0, len(warmup), args.batch_size):
                email_ingest_batch(warmup[i : i + args.batch_size], source="imap")
            print(f"  warm-up: {len(warmup)} messages ingested (not timed)")
        for n in workers if not args.no_batch else []:
            # Each run gets the same kinds of messages with new Message-IDs.
            run_batch(
                messages if n == workers[0] else build_messages(args.count), args.batch_size, n
            )
        if args.single:
            run_single(build_messages(args.single))
        for n in workers if not args.no_imap else []:
            run_imap(build_messages(args.count), n)
        if args.pipe:
            run_pipe(build_messages(args.pipe))
    finally:
        shutil.rmtree(MEDIA, ignore_errors=True)
        shutil.rmtree(BROKER, ignore_errors=True)


if __name__ == "__main__":
    main()
