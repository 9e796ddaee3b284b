#!/usr/bin/env python
"""Live-chat load test: N citizen websockets over two daphne processes, operators answering.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_chat_bench \
    REDIS_URL=redis://127.0.0.1:6379/6 \
    .venv/bin/python bench/chat.py --citizens 500 --operators 100 --messages 10 --interval 5

What it does:
1. Recreates the benchmark database (DROP/CREATE + migrate), flushes the Redis db.
2. Starts two daphne processes (ports 8631, 8632) with the Redis channel layer.
3. Connects the operator consoles (half on each process) and sets them online.
4. Starts N chats over HTTP (/chat/start/), then opens N citizen sockets, alternating
   processes; automatic routing spreads the chats over the operators, so a citizen on
   one process usually talks to an operator on the other.
5. Every citizen sends --messages lines, one every --interval seconds (jittered);
   the simulated operator answers each line at once. Measured per line:
   ack (citizen -> stored -> ack), one-way (citizen -> operator console) and round trip
   (citizen -> operator -> answer back at the citizen).
6. Checks nothing was lost: every answer arrived, and every ticket holds exactly
   1 + 2 * messages lines. Prints RSS and CPU of the daphne processes, and a profile of
   one stored line (queries and time) to show where the time goes.
"""

import argparse
import asyncio
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
PORTS = (8631, 8632)
SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"


def log(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- set-up -----------------------------------------------------------------------


def prepare_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"database {name} recreated; migrating")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=BASE_DIR, check=True)


def seed(operators: int, max_chats: int) -> tuple[int, list[str]]:
    """A queue and operator accounts; returns the queue id and session cookies."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from chat.models import OperatorPresence
    from tickets.models import Queue

    queue = Queue.objects.create(name="Сайт Навигатора", slug="navigator")
    user_model = get_user_model()
    cookies = []
    for i in range(operators):
        user = user_model.objects.create_user(
            username=f"bench-op-{i}", password=None, is_staff=True, first_name=f"Оператор{i}"
        )
        OperatorPresence.objects.create(user=user, max_chats=max_chats)
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return queue.pk, cookies


def start_servers(env: dict) -> list[subprocess.Popen]:
    import httpx

    daphne = str(Path(sys.executable).with_name("daphne"))
    procs = [
        subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(BASE_DIR / "var" / f"bench-chat-{port}.log", "w"),  # noqa: SIM115
        )
        for port in PORTS
    ]
    for port, proc in zip(PORTS, procs, strict=True):
        deadline = time.monotonic() + 40
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"daphne on {port} exited; see var/bench-chat-{port}.log")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/chat/widget.js", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"daphne on {port} did not start")
            time.sleep(0.3)
    log("daphne up on", ", ".join(map(str, PORTS)), "pids", [p.pid for p in procs])
    return procs


# --- the load ---------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.ack: list[float] = []
        self.one_way: list[float] = []
        self.rtt: list[float] = []
        self.sent_at: dict[str, float] = {}
        self.replies: dict[str, asyncio.Future] = {}
        self.errors: list[str] = []
        self.lost = 0
        self.failed_sockets = 0


async def operator_client(url: str, cookie: str, stats: Stats, ready: asyncio.Event, stop):
    from websockets.asyncio.client import connect

    seqs: dict[int, int] = {}
    async with connect(
        f"{url.replace('http', 'ws')}/ws/chat/operator/",
        origin=url,
        additional_headers={"Cookie": cookie},
        max_queue=None,
    ) as ws:
        await ws.send(json.dumps({"type": "presence", "availability": "online"}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "presence":
                break
        ready.set()
        while not stop.is_set():
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 1))
            except TimeoutError:
                continue
            kind = frame["type"]
            if kind == "assigned":
                seqs[frame["chat"]["id"]] = frame["chat"]["operator_seq"]
            elif kind == "line" and frame["line"]["author_kind"] == "requester":
                text = frame["line"]["text"]
                if not text.startswith("q:"):
                    continue
                sent = stats.sent_at.get(text[2:])
                if sent:
                    stats.one_way.append(time.perf_counter() - sent)
                session = frame["session"]
                seqs[session] = seqs.get(session, 0) + 1
                await ws.send(
                    json.dumps(
                        {
                            "type": "message",
                            "session": session,
                            "seq": seqs[session],
                            "text": "a:" + text[2:],
                        }
                    )
                )
            elif kind == "error":
                stats.errors.append(f"operator: {frame}")


async def citizen_client(url, token, index, args, stats: Stats, connected, go: asyncio.Event):
    try:
        await _citizen(url, token, index, args, stats, connected, go)
    except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
        stats.errors.append(f"citizen {index}: {exc!r}")
        stats.failed_sockets += 1
        connected()


async def _citizen(url, token, index, args, stats: Stats, connected, go: asyncio.Event):
    from websockets.asyncio.client import connect

    async with connect(
        f"{url.replace('http', 'ws')}/ws/chat/", origin=url, max_queue=None, open_timeout=120
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "token": token}))
        acks: dict[int, float] = {}
        welcomed = asyncio.Event()

        async def reader():
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "welcome":
                    welcomed.set()
                elif frame["type"] == "ack":
                    started = acks.pop(frame["seq"], None)
                    if started:
                        stats.ack.append(time.perf_counter() - started)
                elif frame["type"] == "line" and frame["line"]["author_kind"] == "operator":
                    key = frame["line"]["text"][2:]
                    future = stats.replies.get(key)
                    if future and not future.done():
                        future.set_result(time.perf_counter())
                elif frame["type"] == "error":
                    stats.errors.append(f"citizen {index}: {frame}")

        task = asyncio.create_task(reader())
        await welcomed.wait()
        connected()
        await go.wait()
        await asyncio.sleep(random.uniform(0, args.interval))
        loop = asyncio.get_running_loop()
        for k in range(1, args.messages + 1):
            key = f"{index}:{k}"
            stats.replies[key] = loop.create_future()
            started = time.perf_counter()
            stats.sent_at[key] = started
            acks[k] = started
            await ws.send(json.dumps({"type": "message", "seq": k, "text": "q:" + key}))
            try:
                answered = await asyncio.wait_for(stats.replies[key], args.timeout)
                stats.rtt.append(answered - started)
            except TimeoutError:
                stats.lost += 1
            await asyncio.sleep(args.interval * random.uniform(0.5, 1.5))
        await asyncio.sleep(0.5)
        task.cancel()


async def run_load(args, queue_id: int, cookies: list[str], procs) -> dict:
    import httpx

    urls = [f"http://127.0.0.1:{port}" for port in PORTS]
    stats = Stats()
    stop = asyncio.Event()
    ops, readies = [], []
    for i, cookie in enumerate(cookies):
        ready = asyncio.Event()
        readies.append(ready)
        ops.append(asyncio.create_task(operator_client(urls[i % 2], cookie, stats, ready, stop)))
        if i % 10 == 9:
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 120)
    log(f"{len(cookies)} operator consoles online")

    semaphore = asyncio.Semaphore(16)
    limits = httpx.Limits(max_connections=32)

    async def start(client, i):
        async with semaphore:
            response = await client.post(
                f"{urls[i % 2]}/chat/start/",
                data={
                    "full_name": f"Гражданин {i}",
                    "email": f"c{i}@example.com",
                    "queue": str(queue_id),
                    "text": f"Вопрос номер {i}",
                },
            )
            response.raise_for_status()
            return response.json()

    t0 = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        started = await asyncio.gather(*(start(client, i) for i in range(args.citizens)))
    log(f"{args.citizens} chats started over HTTP in {time.perf_counter() - t0:.1f}s")

    go = asyncio.Event()
    connected_count = 0
    all_connected = asyncio.Event()

    def connected():
        nonlocal connected_count
        connected_count += 1
        if connected_count == args.citizens:
            all_connected.set()

    citizens = [
        asyncio.create_task(
            citizen_client(urls[(i + 1) % 2], s["token"], i, args, stats, connected, go)
        )
        for i, s in enumerate(started)
    ]
    while not all_connected.is_set():
        try:
            await asyncio.wait_for(all_connected.wait(), 10)
        except TimeoutError:
            log(f"  citizen sockets welcomed: {connected_count}/{args.citizens}")
    await asyncio.sleep(2)  # let routing and welcomes settle
    log(f"{args.citizens} citizen sockets open (alternating processes); sending")
    rss_before = [rss_mb(p.pid) for p in procs]
    cpu_before = [cpu_seconds(p.pid) for p in procs]
    client_cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    t1 = time.perf_counter()
    go.set()

    async def progress():
        while True:
            await asyncio.sleep(10)
            log(f"  round trips so far: {len(stats.rtt)}, p99 {pct(stats.rtt, 99) * 1000:.1f} ms")

    reporter = asyncio.create_task(progress())
    await asyncio.gather(*citizens)
    elapsed = time.perf_counter() - t1
    reporter.cancel()
    client_cpu = resource.getrusage(resource.RUSAGE_SELF)
    stop.set()
    await asyncio.gather(*ops, return_exceptions=True)
    return {
        "stats": stats,
        "elapsed": elapsed,
        "sessions": [s["session"] for s in started],
        "rss_before": rss_before,
        "rss_after": [rss_mb(p.pid) for p in procs],
        "cpu": [cpu_seconds(p.pid) - b for p, b in zip(procs, cpu_before, strict=True)],
        "client_cpu": (client_cpu.ru_utime + client_cpu.ru_stime)
        - (client_cpu_before.ru_utime + client_cpu_before.ru_stime),
    }


def check_tickets(sessions: list[int], messages: int) -> tuple[int, int]:
    from django.db.models import Count

    from chat.models import ChatSession

    counts = ChatSession.objects.filter(pk__in=sessions).annotate(n=Count("ticket__messages"))
    wrong = sum(1 for s in counts if s.n != 1 + 2 * messages)
    stored = sum(s.n for s in counts)
    return stored, wrong


def profile_one_line() -> None:
    """One citizen line and one answer, stored in-process: queries and time per line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat import services
    from chat.models import ChatSession

    session = ChatSession.objects.filter(status="active").select_related("operator").first()
    if session is None:
        return
    timings, query_counts = [], []
    for seq in range(1000, 1050):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            services.chat_citizen_say(session_id=session.pk, seq=seq, text="profile")
            timings.append(time.perf_counter() - t)
        query_counts.append(len(ctx.captured_queries))
    op_timings = []
    for seq in range(1000, 1050):
        t = time.perf_counter()
        services.chat_operator_say(
            session_id=session.pk, operator=session.operator, seq=seq, text="profile"
        )
        op_timings.append(time.perf_counter() - t)
    log(
        f"profile: citizen line = {statistics.median(query_counts):.0f} queries, "
        f"median {statistics.median(timings) * 1000:.2f} ms; operator line median "
        f"{statistics.median(op_timings) * 1000:.2f} ms (single thread, no load)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--citizens", type=int, default=500)
    parser.add_argument("--operators", type=int, default=100)
    parser.add_argument("--max-chats", type=int, default=5)
    parser.add_argument("--messages", type=int, default=10, help="lines per citizen")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between lines")
    parser.add_argument("--timeout", type=float, default=15.0, help="answer counts as lost after")
    args = parser.parse_args()

    db_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    if not db_url.startswith("postgres") or not redis_url:
        raise SystemExit(
            "set DATABASE_URL=postgres://.../hd_chat_bench and REDIS_URL=redis://.../6"
        )
    if args.operators * args.max_chats < args.citizens:
        raise SystemExit("operators * max-chats must cover the citizens (all chats active)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    # The servers must accept the sessions seeded here: same secret key on both sides.
    os.environ["SECRET_KEY"] = SECRET_KEY
    prepare_database(db_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()

    import django

    django.setup()
    queue_id, cookies = seed(args.operators, args.max_chats)
    log(f"seeded a queue and {args.operators} operators (max {args.max_chats} chats each)")

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CHAT_START_RATE_LIMIT": "0",
        "CHAT_RATE_LIMIT": "0",
        "LOG_LEVEL": "WARNING",
    }
    procs = start_servers(env)
    try:
        result = asyncio.run(run_load(args, queue_id, cookies, procs))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    stats = result["stats"]
    stored, wrong = check_tickets(result["sessions"], args.messages)
    lines = len(stats.rtt) * 2 + stats.lost
    ms = lambda values, p: pct(values, p) * 1000  # noqa: E731
    print()
    print(
        f"citizens {args.citizens}, operators {args.operators}, processes 2, "
        f"{args.messages} lines each every ~{args.interval}s"
    )
    print(
        f"round trips {len(stats.rtt)} in {result['elapsed']:.1f}s; "
        f"messages/s (citizen + operator lines) {lines / result['elapsed']:.1f}"
    )
    for name, values in (("round trip", stats.rtt), ("one-way", stats.one_way), ("ack", stats.ack)):
        print(
            f"{name:>11}: p50 {ms(values, 50):6.1f} ms  p95 {ms(values, 95):6.1f} ms  "
            f"p99 {ms(values, 99):6.1f} ms  max {ms(values, 100):6.1f} ms  (n={len(values)})"
        )
    print(f"citizen sockets that failed to open: {stats.failed_sockets}")
    print(
        f"lost answers: {stats.lost}; tickets with a wrong line count: {wrong} "
        f"(stored lines {stored}); errors: {len(stats.errors)}"
    )
    for error in stats.errors[:5]:
        print("  ", error)
    for port, before, after, cpu in zip(
        PORTS, result["rss_before"], result["rss_after"], result["cpu"], strict=True
    ):
        print(
            f"daphne :{port}: RSS {before:.0f} -> {after:.0f} MB, CPU {cpu:.1f}s "
            f"({cpu / result['elapsed'] * 100:.0f}% of one core)"
        )
    print(
        f"bench client CPU {result['client_cpu']:.1f}s "
        f"({result['client_cpu'] / result['elapsed'] * 100:.0f}% of one core)"
    )
    profile_one_line()


if __name__ == "__main__":
    main()
