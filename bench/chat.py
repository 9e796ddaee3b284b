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
5. Every citizen sends --messages lines, one every --interval seconds (jittered
   x0.5-1.5, waiting for the answer first); the simulated operator answers each line at
   once. Offered load: citizens / interval citizen lines per second, and as many answers.
   Measured per line: ack (citizen -> stored -> ack), one-way (citizen -> operator
   console) and round trip (citizen -> operator -> answer back at the citizen).
   With --arrivals N, N more chats start evenly over that time, as on a real line: each
   opens its socket, is welcomed (timed), waits a few seconds in the line and leaves.
6. Tells late from lost: an answer not back within --timeout is late if it arrives
   before the run ends (plus a grace period), lost if it never does; the percentiles
   include late answers at their real latency. Checks the tickets: every ticket holds
   exactly 1 + messages citizen lines and messages answers, in the order they were said.
7. Prints RSS and CPU of the daphne processes (and CPU per stored line), the bench
   client's own CPU, and a profile of one stored line in-process: SQL statements, and
   CPU in Python and in the PostgreSQL backend per line (load-independent figures).

With --proxy every console, chat start and socket goes through nginx balancing the two
processes with the deployment's own configuration (bench/proxy.py): a node no longer
chosen by the client, websockets upgraded by the proxy (issue 23).
"""

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
PORTS = (8631, 8632)
HEARTBEAT_SECONDS = (25, 35)  # static/chat/console.js
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
    from django.contrib.auth.models import Group, Permission
    from django.test import Client

    from chat.models import OperatorPresence
    from tickets.models import Queue

    # As in production: the queue's operators group holds the chat permission.
    group = Group.objects.create(name="bench-chat-operators")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="chat", codename="operate_chat")
    )
    queue = Queue.objects.create(name="Сайт Навигатора", slug="navigator", operators_group=group)
    user_model = get_user_model()
    cookies = []
    for i in range(operators):
        user = user_model.objects.create_user(
            username=f"bench-op-{i}", password=None, is_staff=True, first_name=f"Оператор{i}"
        )
        user.groups.add(group)
        OperatorPresence.objects.create(user=user, max_chats=max_chats)
        client = Client()
        client.force_login(user)
        cookies.append(f"sessionid={client.cookies['sessionid'].value}")
    return queue.pk, cookies


def server_command(server: str, port: int) -> list[str]:
    binary = str(Path(sys.executable).with_name(server))
    if server == "uvicorn":
        # uvloop + the websockets library; Django has no lifespan support.
        return [
            *(binary, "helpdesk.asgi:application", "--host", "127.0.0.1", "--port", str(port)),
            *("--lifespan", "off", "--no-access-log", "--log-level", "warning"),
        ]
    return [binary, "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"]


def start_servers(env: dict, server: str) -> list[subprocess.Popen]:
    import httpx

    procs = [
        subprocess.Popen(
            server_command(server, port),
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
                raise SystemExit(f"{server} on {port} exited; see var/bench-chat-{port}.log")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/chat/widget.js", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{server} on {port} did not start")
            time.sleep(0.3)
    log(server, "up on", ", ".join(map(str, PORTS)), "pids", [p.pid for p in procs])
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
        self.late = 0  # answered, but after the timeout
        self.lost = 0  # never answered
        self.failed_sockets = 0
        self.client_lag: list[float] = []  # the client's own event-loop lag
        self.arrival_welcome: list[float] = []  # chats started during the run
        self.rtt_at: list[tuple[float, float]] = []  # (sent at, round trip), on time
        self.started_at = 0.0  # when the lines began
        self.failed_arrivals = 0
        self.arrival_status: Counter[str] = Counter()  # their status in the welcome


async def loop_lag(samples: list[float], every: float = 0.01) -> None:
    """How late the client's event loop wakes up: added to every latency it measures."""
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(every)
        samples.append(loop.time() - start - every)


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
        # As static/chat/console.js does (every 25-35 s): without it the operators count
        # as gone after CHAT_PRESENCE_TIMEOUT and later chats start offline.
        period = random.uniform(*HEARTBEAT_SECONDS)
        beat = time.monotonic()
        while not stop.is_set():
            if time.monotonic() - beat >= period:
                beat = time.monotonic()
                await ws.send(json.dumps({"type": "heartbeat"}))
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
        late: list[tuple[str, float]] = []
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
                answered = await asyncio.wait_for(asyncio.shield(stats.replies[key]), args.timeout)
                stats.rtt.append(answered - started)
                stats.rtt_at.append((started, answered - started))
            except TimeoutError:
                late.append((key, started))
            await asyncio.sleep(args.interval * random.uniform(0.5, 1.5))
        # Late answers still count at their real latency; lost ones never come.
        for key, started in late:
            try:
                answered = await asyncio.wait_for(stats.replies[key], args.grace)
                stats.rtt.append(answered - started)
                stats.late += 1
            except TimeoutError:
                stats.lost += 1
        await asyncio.sleep(0.5)
        task.cancel()


async def chat_start(client, url: str, queue_id: int, i: int) -> dict:
    """The pre-chat form posted as citizen `i`: the chat's session id and token."""
    response = await client.post(
        f"{url}/chat/start/",
        data={
            "full_name": f"Гражданин {i}",
            "email": f"c{i}@example.com",
            "queue": str(queue_id),
            "text": f"Вопрос номер {i}",
        },
    )
    response.raise_for_status()
    return response.json()


async def arrivals(urls, args, queue_id: int, stats: Stats, client) -> None:
    """Chats that start while the others talk, as on a real line: `--arrivals` of them,
    evenly over the lines' expected duration. Each starts over HTTP, opens its socket on
    the other process, waits for the welcome (timed: start -> welcome), stays a few
    seconds in the waiting line (every operator is full) and leaves."""
    from websockets.asyncio.client import connect

    async def one(i: int) -> None:
        url = urls[i % 2]
        started = time.perf_counter()
        try:
            chat = await chat_start(client, url, queue_id, i)
            socket_url = urls[(i + 1) % 2]
            async with connect(f"{socket_url.replace('http', 'ws')}/ws/chat/", origin=url) as ws:
                await ws.send(json.dumps({"type": "hello", "token": chat["token"]}))
                while (welcome := json.loads(await ws.recv()))["type"] != "welcome":
                    pass
                stats.arrival_welcome.append(time.perf_counter() - started)
                stats.arrival_status[welcome["status"]] += 1
                await asyncio.sleep(args.interval / 2)
        except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
            stats.errors.append(f"arrival {i}: {exc!r}")
            stats.failed_arrivals += 1

    spacing = args.messages * args.interval / max(args.arrivals, 1)
    tasks = []
    for i in range(args.arrivals):
        tasks.append(asyncio.create_task(one(args.citizens + i)))
        await asyncio.sleep(spacing)
    await asyncio.gather(*tasks)


async def run_load(args, queue_id: int, cookies: list[str], procs, proxied: str = "") -> dict:
    import httpx

    # Behind the proxy every console, start and socket goes to nginx, which picks a node.
    urls = [proxied] * 2 if proxied else [f"http://127.0.0.1:{port}" for port in PORTS]
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
            return await chat_start(client, urls[i % 2], queue_id, i)

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
    # The client's own pauses land in every figure it measures: a full collection of
    # its heap (Django, 600 sockets) stopped it for 100-140 ms. Frozen, and with full
    # collections off for the run (young ones stay), it measures the servers; its own
    # loop lag is printed with the figures.
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 2**31 - 1)
    lag_monitor = asyncio.create_task(loop_lag(stats.client_lag))
    rss_before = [rss_mb(p.pid) for p in procs]
    cpu_before = [cpu_seconds(p.pid) for p in procs]
    client_cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    t1 = stats.started_at = time.perf_counter()
    go.set()

    async def progress():
        while True:
            await asyncio.sleep(10)
            log(f"  round trips so far: {len(stats.rtt)}, p99 {pct(stats.rtt, 99) * 1000:.1f} ms")

    reporter = asyncio.create_task(progress())
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        newcomers = asyncio.create_task(arrivals(urls, args, queue_id, stats, client))
        await asyncio.gather(*citizens)
        await newcomers
    elapsed = time.perf_counter() - t1
    reporter.cancel()
    lag_monitor.cancel()
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


def check_tickets(sessions: list[int], messages: int) -> dict:
    """Lines per ticket by side, and whether each side's lines are stored in order."""
    from chat.models import ChatSession
    from tickets.models import Message

    tickets = dict(ChatSession.objects.filter(pk__in=sessions).values_list("ticket_id", "pk"))
    lines: dict[int, dict[str, list[int]]] = {t: {"q": [], "a": []} for t in tickets}
    stored = Message.objects.filter(ticket_id__in=tickets).order_by("id")
    for ticket_id, text in stored.values_list("ticket_id", "text"):
        if text[:2] in ("q:", "a:"):
            lines[ticket_id][text[0]].append(int(text.rsplit(":", 1)[1]))
    expected = list(range(1, messages + 1))
    return {
        "citizen_lines": sum(len(v["q"]) for v in lines.values()),
        "answers": sum(len(v["a"]) for v in lines.values()),
        "wrong_citizen": sum(1 for v in lines.values() if v["q"] != expected),
        "wrong_answers": sum(1 for v in lines.values() if v["a"] != expected),
    }


def backend_cpu(connection) -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same host)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cpu_seconds(cursor.fetchone()[0])


def profile_one_line(count: int = 200) -> None:
    """Lines stored in-process, one at a time: statements, and CPU per line in Python and
    in the PostgreSQL backend (not wall time: those do not depend on the machine's load)."""
    from channels.layers import channel_layers
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chat import lines
    from chat.models import ChatSession

    session = ChatSession.objects.filter(status="active").select_related("operator").first()
    if session is None:
        return
    # The store path only: outside a server every publish would start an event loop and
    # a Redis connection of its own (in daphne it runs on the server's loop; the daphne
    # CPU per line above includes it).
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends = {}
    settings.DEBUG = False  # as in the servers: no query log
    for side in ("citizen", "operator"):
        if side == "citizen":
            say = lambda seq: lines.chat_citizen_say(  # noqa: E731
                session_id=session.pk, seq=seq, text="profile"
            )
        else:
            say = lambda seq: lines.chat_operator_say(  # noqa: E731
                session_id=session.pk, operator=session.operator, seq=seq, text="profile"
            )
        with CaptureQueriesContext(connection) as ctx:
            say(1000)
        statements = [q["sql"].split()[0] for q in ctx.captured_queries]
        wall, cpu = [], []
        pg_before = backend_cpu(connection)
        for seq in range(1001, 1001 + count):
            t, c = time.perf_counter(), time.process_time()
            say(seq)
            cpu.append(time.process_time() - c)
            wall.append(time.perf_counter() - t)
        pg_cpu = (backend_cpu(connection) - pg_before) / count
        log(
            f"profile: {side} line = {len(statements)} statements ({' '.join(statements)}); "
            f"CPU per line {statistics.median(cpu) * 1000:.2f} ms Python + "
            f"{pg_cpu * 1000:.2f} ms PostgreSQL backend; wall median "
            f"{statistics.median(wall) * 1000:.2f} ms (commit fsync included)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--citizens", type=int, default=500)
    parser.add_argument("--operators", type=int, default=100)
    parser.add_argument("--max-chats", type=int, default=5)
    parser.add_argument("--messages", type=int, default=10, help="lines per citizen")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between lines")
    parser.add_argument("--timeout", type=float, default=15.0, help="answer counts as late after")
    parser.add_argument(
        "--arrivals",
        type=int,
        default=0,
        help="chats that start (and leave the waiting line) while the others talk",
    )
    parser.add_argument(
        "--grace", type=float, default=30.0, help="a late answer counts as lost after"
    )
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="everything through nginx balancing the two processes (deploy/nginx.multinode.conf)",
    )
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
    logging.getLogger("httpx").setLevel(logging.WARNING)
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
        # Production mode requires staff's second factor, which the seeded console
        # sessions have not passed: they would be refused and the run would hang.
        "STAFF_MFA_REQUIRED": "false",
    }
    procs = start_servers(env, args.server)
    stack = contextlib.ExitStack()
    try:
        proxied = ""
        if args.proxy:
            from proxy import nginx_in_front

            proxied = stack.enter_context(nginx_in_front(PORTS))
        result = asyncio.run(run_load(args, queue_id, cookies, procs, proxied))
    finally:
        stack.close()
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    stats = result["stats"]
    tickets = check_tickets(result["sessions"], args.messages)
    lines = len(stats.rtt) * 2 + stats.lost
    elapsed = result["elapsed"]
    ms = lambda values, p: pct(values, p) * 1000  # noqa: E731
    print()
    print(
        f"citizens {args.citizens}, operators {args.operators}, 2 {args.server} processes"
        f"{' behind nginx' if args.proxy else ''}, "
        f"channel layer {os.environ.get('CHANNEL_LAYER', 'pubsub')}, "
        f"{args.messages} lines each every ~{args.interval}s; offered load "
        f"{args.citizens / args.interval:.0f} citizen lines/s + as many answers"
        + (f"; {args.arrivals} chats starting during the run" if args.arrivals else "")
    )
    print(
        f"round trips {len(stats.rtt)} in {elapsed:.1f}s; "
        f"messages/s (citizen + operator lines) {lines / elapsed:.1f}"
    )
    for name, values in (
        ("round trip", stats.rtt),
        ("one-way", stats.one_way),
        ("ack", stats.ack),
        ("client lag", stats.client_lag),
    ):
        print(
            f"{name:>11}: p50 {ms(values, 50):6.1f} ms  p95 {ms(values, 95):6.1f} ms  "
            f"p99 {ms(values, 99):6.1f} ms  max {ms(values, 100):6.1f} ms  (n={len(values)})"
        )
    # Is the tail one stall (many slow lines in one second) or spread over the run?
    slowest = pct(stats.rtt, 99)
    seconds = Counter(int(sent - stats.started_at) for sent, rtt in stats.rtt_at if rtt >= slowest)
    print(
        f"slowest 1% of round trips (>= {slowest * 1000:.0f} ms) by second of the run: "
        + ", ".join(f"{second}s: {n}" for second, n in sorted(seconds.most_common(8)))
    )
    if args.arrivals:
        print(
            f"chats started during the run: {len(stats.arrival_welcome)} of {args.arrivals} "
            f"welcomed, start -> welcome p50 {ms(stats.arrival_welcome, 50):.0f} ms, "
            f"p99 {ms(stats.arrival_welcome, 99):.0f} ms; failed {stats.failed_arrivals}; "
            f"status in the welcome: {dict(stats.arrival_status)}"
        )
    print(f"citizen sockets that failed to open: {stats.failed_sockets}")
    print(
        f"answers late (after {args.timeout:.0f}s, counted above): {stats.late}; "
        f"lost (never came): {stats.lost}; errors: {len(stats.errors)}"
    )
    print(
        f"on the tickets: {tickets['citizen_lines']} citizen lines and {tickets['answers']} "
        f"answers of {args.citizens * args.messages} each; tickets with missing, duplicated "
        f"or reordered lines: citizen {tickets['wrong_citizen']}, "
        f"answers {tickets['wrong_answers']}"
    )
    for error in stats.errors[:5]:
        print("  ", error)
    total_cpu = sum(result["cpu"])
    for port, before, after, cpu in zip(
        PORTS, result["rss_before"], result["rss_after"], result["cpu"], strict=True
    ):
        print(
            f"{args.server} :{port}: RSS {before:.0f} -> {after:.0f} MB, CPU {cpu:.1f}s "
            f"({cpu / elapsed * 100:.0f}% of one core)"
        )
    if lines:
        print(
            f"{args.server} CPU per stored line (both sides, all work: socket, store, layer): "
            f"{total_cpu / lines * 1000:.2f} ms"
        )
    print(
        f"bench client CPU {result['client_cpu']:.1f}s "
        f"({result['client_cpu'] / elapsed * 100:.0f}% of one core)"
    )
    profile_one_line()


if __name__ == "__main__":
    main()
