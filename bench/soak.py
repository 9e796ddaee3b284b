#!/usr/bin/env python
"""Mixed soak (issue 22): appeals, chat, mail and operators at once, then the books.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_soak REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python bench/soak.py [--seconds 60] [--appeals 50] [--mails 20] [--sockets 200]

1. Recreates the database, flushes the Redis db, seeds a queue (with an inbound address)
   and chat operators, collects static files (the servers run in production mode).
2. Starts 2 web processes (`python -m helpdesk.serve`, ports 8641-8642, DB_POOL) and a
   Celery worker (`--concurrency 2`) on the Redis broker; mail goes to files.
3. For --seconds, at the same time:
   - appeals: --appeals per second posted to the public form (open loop: they start on
     schedule whether or not earlier ones are done), alternating processes;
   - chat: --sockets citizen sockets (on the process other than their operator's, as
     bench/chat.py), each saying a line every --interval seconds; the operator consoles
     answer every line at once;
   - mail: --mails per second through the batch path (`email_ingest_batch`, what IMAP
     polling runs), one batch a second, from new senders to the queue's address;
   - operators: --replies per second answered on appeals already filed
     (`message_add_reply`, each an outgoing mail through the outbox).
4. Waits for the outbox to drain, then checks: every accepted appeal, every mail and every
   chat line is in the database exactly once, every auto-reply was sent once (outbox
   rows and the mail files), and prints throughput, p50/p95/p99 per path, errors, and
   the RSS of each process at the start and at the end.
"""

import argparse
import asyncio
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email.utils import make_msgid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.chat import (  # noqa: E402
    SECRET_KEY,
    Stats,
    chat_start,
    citizen_client,
    log,
    operator_client,
    pct,
    prepare_database,
    rss_mb,
    seed,
)

PORTS = (8641, 8642)
QUEUE_ADDRESS = "navigator@support.example"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def server_env(args, mail_dir: Path, static_root: Path) -> dict:
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(static_root),
        "EMAIL_URL": f"filemail://{mail_dir}",
        "DB_POOL": "true",
        "APPEAL_RATE_LIMIT": "0",
        "CHAT_START_RATE_LIMIT": "0",
        "CHAT_RATE_LIMIT": "0",
        "LOG_LEVEL": "WARNING",
        # The consoles' second factor is not what this measures (their sessions are seeded).
        "STAFF_MFA_REQUIRED": "false",
    }


def stop_processes(procs: dict[str, subprocess.Popen]) -> None:
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def start_processes(
    env: dict, trace_dir: Path | None = None, trace_every: float = 0
) -> dict[str, subprocess.Popen]:
    import httpx

    logs = BASE_DIR / "var"
    logs.mkdir(exist_ok=True)
    procs = {}
    serve = [sys.executable, "-m", "helpdesk.serve"]
    if trace_dir is not None:  # tracemalloc snapshots (bench/traced_serve.py)
        serve = [sys.executable, str(BASE_DIR / "bench" / "traced_serve.py")]
        serve += [str(trace_dir), str(trace_every)]
    for port in PORTS:
        procs[f"web :{port}"] = subprocess.Popen(
            [*serve, "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(logs / f"soak-web-{port}.log", "w"),  # noqa: SIM115
        )
    procs["worker"] = subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "-A", "helpdesk", "worker"]
        + ["--concurrency", "2", "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(logs / "soak-worker.log", "w"),  # noqa: SIM115
    )
    for port in PORTS:
        deadline = time.monotonic() + (240 if trace_dir is not None else 60)
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz/live", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                stop_processes(procs)
                raise SystemExit(f"web process on {port} did not start (var/soak-web-{port}.log)")
            time.sleep(0.3)
    time.sleep(3)  # the worker connects to the broker
    log("up:", ", ".join(f"{name} pid {p.pid}" for name, p in procs.items()))
    return procs


def rss_all(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """RSS per process; the worker with its pool children."""
    result = {}
    for name, proc in procs.items():
        pids = [proc.pid]
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        if children.exists():
            pids += [int(pid) for pid in children.read_text().split()]
        result[name] = sum(rss_mb(pid) for pid in pids)
    return result


class LoadPath:
    """Latencies and outcomes of one load path."""

    def __init__(self, name: str):
        self.name = name
        self.latencies: list[float] = []
        self.ok = 0
        self.errors: Counter[str] = Counter()
        self.elapsed = 0.0  # from the start of the load until its last request ended

    def line(self) -> str:
        elapsed = self.elapsed
        ms = [pct(self.latencies, p) * 1000 for p in (50, 95, 99)]
        errors = sum(self.errors.values())
        return (
            f"{self.name:>8}: {self.ok:6d} ok ({self.ok / elapsed:6.1f}/s)  p50 {ms[0]:7.1f} ms  "
            f"p95 {ms[1]:7.1f} ms  p99 {ms[2]:7.1f} ms  errors {errors}"
            + (f" {dict(self.errors.most_common(4))}" if errors else "")
        )


async def on_schedule(rate: float, seconds: float, job) -> None:
    """Open loop: start job(n) `rate` times a second for `seconds`, never waiting for one."""
    if rate <= 0:
        return
    tasks = []
    started = time.perf_counter()
    n = 0
    while (due := started + n / rate) < started + seconds:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        tasks.append(asyncio.create_task(job(n)))
        n += 1
    await asyncio.gather(*tasks)


async def appeals(args, queue_id: int, path: LoadPath, accepted: list[str]) -> None:
    import httpx

    urls = [f"http://127.0.0.1:{port}" for port in PORTS]
    clients, forms = [], []
    for url in urls:
        client = httpx.AsyncClient(
            base_url=url, timeout=60, limits=httpx.Limits(max_connections=32)
        )
        page = await client.get("/appeal/")
        token = CSRF_INPUT.search(page.text)[1]
        # Production cookies are Secure; this client speaks plain HTTP to the process.
        clients.append(client)
        forms.append((token, f"csrftoken={page.cookies['csrftoken']}"))

    async def one(n: int) -> None:
        client, (token, cookie) = clients[n % 2], forms[n % 2]
        started = time.perf_counter()
        try:
            response = await client.post(
                "/appeal/",
                data={
                    "csrfmiddlewaretoken": token,
                    "full_name": f"Нагрузка Обращение {n}",
                    "email": f"soak-a{n}@example.com",
                    "queue": str(queue_id),
                    "kind": "question",
                    "subject": f"Не приходит СМС-код {n}",
                    "text": "Здравствуйте! Третий день не приходит код подтверждения.",
                    "consent": "on",
                },
                headers={"Cookie": cookie},
            )
            status = str(response.status_code)
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        path.latencies.append(time.perf_counter() - started)
        if status == "302":
            path.ok += 1
            accepted.append(f"soak-a{n}@example.com")
        else:
            path.errors[status] += 1

    await on_schedule(args.appeals, args.seconds, one)
    for client in clients:
        await client.aclose()


def mail(n: int, k: int) -> bytes:
    return (
        f"From: Заявитель {n}-{k} <soak-m{n}-{k}@example.com>\r\nTo: {QUEUE_ADDRESS}\r\n"
        f"Subject: Вопрос по почте {n}-{k}\r\nMessage-ID: {make_msgid(domain='example.com')}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Добрый день. Запись к врачу не сохраняется, выдаёт ошибку.\r\n"
    ).encode()


def mail_batch(n: int, size: int) -> tuple[int, Counter]:
    from django.db import close_old_connections

    from tickets.intake.ingest import email_ingest_batch
    from tickets.models import InboundEmail

    close_old_connections()
    results = email_ingest_batch([mail(n, k) for k in range(size)], source=InboundEmail.Source.IMAP)
    return sum(1 for r in results if r.stored), Counter(r.status for r in results)


def operator_reply(n: int) -> int:
    from django.contrib.auth import get_user_model
    from django.db import close_old_connections

    from tickets.models import Ticket
    from tickets.services import message_add_reply

    close_old_connections()
    ticket = Ticket.objects.filter(channel=Ticket.Channel.WEB).order_by("?").first()
    if ticket is None:
        return 0  # no appeal filed yet
    author = get_user_model().objects.filter(username="bench-op-0").get()
    message_add_reply(ticket=ticket, author=author, text=f"Ответ оператора {n}")
    return 1


async def in_thread_on_schedule(rate, seconds, func, path: LoadPath, pool, count=lambda r: 1):
    loop = asyncio.get_running_loop()

    async def one(n: int) -> None:
        started = time.perf_counter()
        try:
            result = await loop.run_in_executor(pool, func, n)
            path.ok += count(result)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the soak goes on
            path.errors[type(exc).__name__] += 1
        path.latencies.append(time.perf_counter() - started)

    await on_schedule(rate, seconds, one)


async def chat(args, queue_id: int, cookies: list[str], stats: Stats, ready, go) -> list[int]:
    """Consoles and citizen sockets connect; `ready` is set when all are; they talk from
    `go` on. Returns the chats' session ids."""
    import httpx

    urls = [f"http://127.0.0.1:{port}" for port in PORTS]
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in cookies]
    ops = [
        asyncio.create_task(operator_client(urls[i % 2], c, stats, readies[i], stop))
        for i, c in enumerate(cookies)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16)) as client:
        started = [await chat_start(client, urls[i % 2], queue_id, i) for i in range(args.sockets)]
    welcomed = 0
    all_welcomed = asyncio.Event()

    def connected():
        nonlocal welcomed
        welcomed += 1
        if welcomed == args.sockets:
            all_welcomed.set()

    talk = asyncio.Event()
    citizens = [
        asyncio.create_task(
            citizen_client(urls[(i + 1) % 2], s["token"], i, args, stats, connected, talk)
        )
        for i, s in enumerate(started)
    ]
    await asyncio.wait_for(all_welcomed.wait(), 120)
    log(f"{len(cookies)} consoles and {args.sockets} citizen sockets connected")
    ready.set()
    await go.wait()
    talk.set()
    await asyncio.gather(*citizens)
    stop.set()
    await asyncio.gather(*ops, return_exceptions=True)
    return [s["session"] for s in started]


async def run(args, queue_id: int, cookies: list[str], procs) -> dict:
    chat_ready, go = asyncio.Event(), asyncio.Event()
    stats = Stats()
    chat_task = asyncio.create_task(chat(args, queue_id, cookies, stats, chat_ready, go))
    ready_wait = asyncio.ensure_future(chat_ready.wait())
    await asyncio.wait({chat_task, ready_wait}, return_when=asyncio.FIRST_COMPLETED)
    if chat_task.done():  # the chat failed to connect (a timeout): say so, do not hang
        ready_wait.cancel()
        chat_task.result()
    rss_start = rss_all(procs)
    paths = {name: LoadPath(name) for name in ("appeal", "mail", "reply")}
    accepted: list[str] = []
    mails_stored = 0

    def count_mails(result):
        nonlocal mails_stored
        stored, statuses = result
        mails_stored += stored
        return stored

    pool = ThreadPoolExecutor(max_workers=8)
    t0 = time.perf_counter()
    go.set()
    timeline: list[tuple[float, dict[str, float], float]] = []

    async def sample_rss() -> None:
        while True:
            timeline.append((time.perf_counter() - t0, rss_all(procs), os.getloadavg()[0]))
            await asyncio.sleep(args.rss_every)

    sampler = asyncio.create_task(sample_rss())

    async def timed(path: LoadPath, work) -> None:
        await work
        path.elapsed = time.perf_counter() - t0

    await asyncio.gather(
        timed(paths["appeal"], appeals(args, queue_id, paths["appeal"], accepted)),
        timed(
            paths["mail"],
            in_thread_on_schedule(
                1.0,
                args.seconds,
                lambda n: mail_batch(n, args.mails),
                paths["mail"],
                pool,
                count_mails,
            ),
        ),
        timed(
            paths["reply"],
            in_thread_on_schedule(
                args.replies, args.seconds, operator_reply, paths["reply"], pool, lambda r: r
            ),
        ),
    )
    sessions = await chat_task
    elapsed = time.perf_counter() - t0
    sampler.cancel()
    timeline.append((elapsed, rss_all(procs), os.getloadavg()[0]))
    pool.shutdown()
    return {
        "stats": stats,
        "paths": paths,
        "accepted": accepted,
        "sessions": sessions,
        "elapsed": elapsed,
        "rss_start": rss_start,
        "rss_end": rss_all(procs),
        "rss_timeline": timeline,
    }


def wait_for_outbox(timeout: float) -> int:
    from notifications.models import Notification

    deadline = time.monotonic() + timeout
    while True:
        left = Notification.objects.exclude(status=Notification.Status.SENT).count()
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(1)


def books(result: dict, args, mail_dir: Path) -> list[str]:
    """Everything said is in the database once; every auto-reply was sent once."""
    from bench.chat import check_tickets
    from notifications.models import Notification
    from tickets.models import Contact, InboundEmail, Ticket

    lines = []
    accepted = result["accepted"]
    web = Ticket.objects.filter(channel=Ticket.Channel.WEB, requester__email__startswith="soak-a")
    per_contact = Counter(web.values_list("requester__email", flat=True))
    lines.append(
        f"appeals: {len(accepted)} accepted, {web.count()} tickets; accepted without a ticket "
        f"{len(set(accepted) - set(per_contact))}, with more than one "
        f"{sum(1 for n in per_contact.values() if n > 1)}"
    )
    inbound = InboundEmail.objects.all()
    mail_tickets = Ticket.objects.filter(channel=Ticket.Channel.EMAIL).count()
    lines.append(
        f"mail: {result['paths']['mail'].ok} stored, {inbound.count()} inbound rows "
        f"({dict(Counter(inbound.values_list('status', flat=True)))}), {mail_tickets} tickets"
    )
    chat = check_tickets(result["sessions"], args.lines)
    lines.append(
        f"chat: {chat['citizen_lines']} citizen lines and {chat['answers']} answers on the "
        f"tickets of {args.sockets * args.lines} each; chats with a missing, duplicated or "
        f"reordered line: citizen {chat['wrong_citizen']}, answers {chat['wrong_answers']}"
    )
    replies = Notification.objects.filter(kind=Notification.Kind.AUTO_REPLY)
    per_ref = Counter(replies.values_list("reference", flat=True))
    statuses = Counter(replies.values_list("status", flat=True))
    sent_files = Counter(
        line[4:].strip()
        for path in mail_dir.glob("*")
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith("To: ")
    )
    senders = set(per_contact) | set(
        Contact.objects.filter(email__startswith="soak-m").values_list("email", flat=True)
    )
    sent = Counter(
        Notification.objects.filter(status=Notification.Status.SENT).values_list(
            "recipient", flat=True
        )
    )
    lines.append(
        f"auto-replies: {replies.count()} rows ({dict(statuses)}), references with more than "
        f"one {sum(1 for n in per_ref.values() if n > 1)}; appeals and mails without one "
        f"{len(senders - set(replies.values_list('recipient', flat=True)))}"
    )
    lines.append(
        f"outgoing mail: {sum(sent.values())} sent rows, {sum(sent_files.values())} mails in "
        f"the files; recipients whose count differs "
        f"{sum(1 for a in set(sent) | set(sent_files) if sent[a] != sent_files[a])}"
    )
    return lines


def memory_growth(trace_dir: Path, procs: dict[str, subprocess.Popen]) -> list[str]:
    """Per web process: Python heap traced by tracemalloc at each snapshot, and where it
    grew between the second snapshot (warm, load running) and the last."""
    import tracemalloc

    lines = []
    for name, proc in procs.items():
        paths = sorted(trace_dir.glob(f"{proc.pid}-*.snap"))
        if len(paths) < 3:
            continue
        sizes = []
        for path in paths:
            snapshot = tracemalloc.Snapshot.load(str(path))
            sizes.append(sum(stat.size for stat in snapshot.statistics("filename")) / 2**20)
        lines.append(
            f"traced Python heap {name} after a full collection (MB, one snapshot per "
            "interval): " + " ".join(f"{size:.1f}" for size in sizes)
        )
        gc_log = trace_dir / f"{proc.pid}.gc"
        if gc_log.exists():
            rows = [line.split() for line in gc_log.read_text().splitlines()]
            lines.append(
                "  garbage the collection freed at each snapshot (MB): "
                + " ".join(f"{(int(r[2]) - int(r[3])) / 2**20:.1f}" for r in rows)
            )
        first = tracemalloc.Snapshot.load(str(paths[1]))
        last = tracemalloc.Snapshot.load(str(paths[-1]))
        filters = [tracemalloc.Filter(False, tracemalloc.__file__)]
        first, last = first.filter_traces(filters), last.filter_traces(filters)
        lines.append(f"  grew most between snapshot 1 and {len(paths) - 1} (by line):")
        for stat in last.compare_to(first, "lineno")[:12]:
            frame = stat.traceback[0]
            lines.append(
                f"    {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+7d} blocks  "
                f"{frame.filename.replace(str(BASE_DIR) + '/', '')}:{frame.lineno}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--appeals", type=float, default=50, help="appeals per second")
    parser.add_argument("--mails", type=int, default=20, help="mails per second (one batch)")
    parser.add_argument("--sockets", type=int, default=200, help="citizen chat sockets")
    parser.add_argument("--interval", type=float, default=10, help="seconds between lines")
    parser.add_argument("--replies", type=float, default=5, help="operator answers per second")
    parser.add_argument("--operators", type=int, default=20)
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for the outbox")
    parser.add_argument(
        "--rss-every", type=float, default=60, help="seconds between RSS samples during the load"
    )
    parser.add_argument(
        "--trace-memory",
        type=float,
        default=0,
        metavar="SECONDS",
        help="run the web processes under tracemalloc (bench/traced_serve.py), a snapshot "
        "every SECONDS, and print what grew (slows them down: not for the rate figures)",
    )
    args = parser.parse_args()
    args.lines = max(1, int(args.seconds / args.interval))
    # What bench/chat.py's citizen clients read.
    args.messages, args.timeout, args.grace = args.lines, 15.0, 30.0

    db_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        raise SystemExit("set DATABASE_URL=postgres://.../hd_soak and REDIS_URL=redis://.../7")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ["SECRET_KEY"] = SECRET_KEY
    os.environ["LOG_LEVEL"] = "WARNING"
    mail_dir = Path(tempfile.mkdtemp(prefix="hd-soak-mail-"))
    static_root = Path(tempfile.mkdtemp(prefix="hd-soak-static-"))
    media = Path(tempfile.mkdtemp(prefix="hd-soak-media-"))
    os.environ.update({"MEDIA_ROOT": str(media), "EMAIL_URL": f"filemail://{mail_dir}"})
    load_before = os.getloadavg()[0]
    prepare_database(db_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = server_env(args, mail_dir, static_root)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from tickets.models import Queue

    max_chats = -(-args.sockets // args.operators)
    queue_id, cookies = seed(args.operators, max_chats)
    Queue.objects.filter(pk=queue_id).update(email_address=QUEUE_ADDRESS)
    trace_dir = Path(tempfile.mkdtemp(prefix="hd-soak-trace-")) if args.trace_memory else None
    procs = start_processes(env, trace_dir, args.trace_memory)
    try:
        result = asyncio.run(run(args, queue_id, cookies, procs))
        log("load done; waiting for the outbox to drain")
        undrained = wait_for_outbox(args.drain)
        rss_drained = rss_all(procs)
    finally:
        stop_processes(procs)

    elapsed = result["elapsed"]
    stats = result["stats"]
    print()
    print(
        f"soak {args.seconds:.0f}s offered: {args.appeals:g} appeals/s, {args.mails} mails/s "
        f"(batch), {args.sockets} sockets x 1 line/{args.interval:g}s "
        f"({args.sockets / args.interval:.0f} lines/s + as many answers), "
        f"{args.replies:g} operator answers/s; 2 web processes + 1 worker (concurrency 2); "
        f"load average before the run {load_before:.1f}"
    )
    for path in result["paths"].values():
        print(path.line())
    for name, values in (("chat rtt", stats.rtt), ("chat ack", stats.ack)):
        print(
            f"{name:>8}: {len(values):6d} ok ({len(values) / elapsed:6.1f}/s)  "
            f"p50 {pct(values, 50) * 1000:7.1f} ms  p95 {pct(values, 95) * 1000:7.1f} ms  "
            f"p99 {pct(values, 99) * 1000:7.1f} ms"
        )
    print(
        f"    chat: late {stats.late}, lost {stats.lost}, sockets failed "
        f"{stats.failed_sockets}, errors {len(stats.errors)}"
    )
    for error in stats.errors[:3]:
        print("     ", error[:200])
    print(f"outbox rows not sent {args.drain:.0f}s after the load: {undrained}")
    for line in books(result, args, mail_dir):
        print(line)
    for name in result["rss_start"]:
        print(
            f"RSS {name}: {result['rss_start'][name]:.0f} MB at the start, "
            f"{result['rss_end'][name]:.0f} MB at the end of the load, "
            f"{rss_drained[name]:.0f} MB after the drain"
        )
    print("RSS during the load (MB), with the 1-minute load average:")
    for at, values, load in result["rss_timeline"]:
        print(
            f"  {at:6.0f} s  "
            + "  ".join(f"{n} {v:.0f}" for n, v in values.items())
            + f"  load {load:.1f}"
        )
    print(f"load average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if trace_dir is not None:
        for line in memory_growth(trace_dir, procs):
            print(line)


if __name__ == "__main__":
    main()
