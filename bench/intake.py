#!/usr/bin/env python3
"""Intake benchmark: N concurrent clients post valid appeals to the public form.

Starts its own server(s) on PostgreSQL (or targets a running one with --url), gets the
form first per client (CSRF cookie + token, as a browser does), then posts appeals in a
loop. Prints req/s, latency percentiles, and checks tickets created == successes.

    .venv/bin/python bench/intake.py                       # 8 clients, 2 daphne processes
    .venv/bin/python bench/intake.py --clients 8 --requests 4000 --seed-tickets 100000
    .venv/bin/python bench/intake.py --url http://127.0.0.1:8000 --database-url postgres://...
    .venv/bin/python bench/intake.py --proxy   # two nodes behind nginx (bench/proxy.py)

The server gets APPEAL_RATE_LIMIT=0 (the limit would otherwise answer 429), DEBUG=false.
Not collected by pytest.
"""

import argparse
import contextlib
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/hd_public_bench"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
QUEUE_OPTION = re.compile(r'<option value="(\d+)"')


def log(message: str) -> None:
    print(message, flush=True)


# --- Server management -------------------------------------------------------------


def server_env(args) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": args.database_url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "APPEAL_RATE_LIMIT": "0",
            "LOG_LEVEL": "WARNING",
            # A psycopg pool per process, as docker-compose.yml runs it: 9.3 ms of server
            # CPU per appeal against 11.6 ms with a persistent connection per HTTP thread
            # (health-check SELECT 1 per request, twice the backends). DB_POOL=false in
            # the environment measures the latter.
            "DB_POOL": os.environ.get("DB_POOL", "true"),
        }
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
    return env


def prepare_database(args, env: dict) -> None:
    import psycopg

    parsed = urllib.parse.urlparse(args.database_url)
    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and args.fresh:
            log(f"dropping database {name}")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')
    log("migrating")
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    if args.seed_tickets:
        have = count_tickets(args.database_url)
        if have < args.seed_tickets:
            log(f"seeding {args.seed_tickets - have} tickets (database has {have})")
            subprocess.run(
                [PYTHON, "manage.py", "seed_demo", "--tickets", str(args.seed_tickets - have)],
                cwd=ROOT,
                env=env,
                check=True,
            )
    else:
        # Queues, groups and staff only; the form needs at least one active queue.
        done = subprocess.run(
            [PYTHON, "manage.py", "seed_demo", "--tickets", "0"],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
        )
        if done.returncode:
            log("warning: seed_demo failed after the queues (see its output); going on")
    subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )


def start_servers(args, env: dict) -> list[subprocess.Popen]:
    processes = []
    for i in range(args.workers):
        port = args.port + i
        if args.server == "uvicorn":
            cmd = [
                str(ROOT / ".venv" / "bin" / "uvicorn"),
                "helpdesk.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",
                "--log-level",
                "warning",
            ]
        else:
            cmd = [
                str(ROOT / ".venv" / "bin" / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "-v",
                "0",
                "helpdesk.asgi:application",
            ]
        processes.append(
            subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        )
    for i in range(args.workers):
        wait_for(args.port + i)
    last = args.port + args.workers - 1
    log(f"{args.workers} {args.server} process(es) on ports {args.port}..{last}")
    return processes


def wait_for(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def stop_servers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def count_tickets(database_url: str) -> int:
    import psycopg

    with psycopg.connect(database_url) as conn:
        try:
            return conn.execute("SELECT count(*) FROM tickets_ticket").fetchone()[0]
        except psycopg.errors.UndefinedTable:
            return 0


# --- Where the CPU goes -------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid: int) -> tuple[str, float]:
    """(command name, user+system CPU seconds) of one process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            data = fh.read()
    except OSError:
        return "", 0.0
    name = data[data.index("(") + 1 : data.rindex(")")]
    fields = data[data.rindex(")") + 2 :].split()
    return name, (int(fields[11]) + int(fields[12])) / TICK


def cpu_snapshot(server_pids: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the server processes, PostgreSQL, and this script."""
    totals = {"server": 0.0, "postgres": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        name, seconds = _proc_cpu(int(entry))
        if name.startswith("postgres"):
            totals["postgres"] += seconds
    for pid in server_pids:
        totals["server"] += _proc_cpu(pid)[1]
    times = os.times()
    totals["client"] = times.user + times.system
    return totals


# --- Clients -------------------------------------------------------------------------


def multipart(fields: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


class Client(threading.Thread):
    """One citizen's browser: a kept-alive connection, the CSRF cookie, appeals in a loop."""

    def __init__(self, index: int, host: str, port: int, quota: int, results: list, start):
        super().__init__(daemon=True)
        self.index, self.host, self.port, self.quota = index, host, port, quota
        self.results, self.start_event = results, start
        self.latencies: list[float] = []
        self.ok = 0
        self.failed: dict[str, int] = {}

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def run(self) -> None:
        conn = self._connect()
        conn.request("GET", "/appeal/")
        response = conn.getresponse()
        html = response.read().decode()
        cookie = ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("csrftoken="):
                cookie = value.split(";", 1)[0]
        token = CSRF_INPUT.search(html).group(1)
        queue = QUEUE_OPTION.search(html).group(1)
        self.start_event.wait()
        for n in range(self.quota):
            body, content_type = multipart(
                {
                    "csrfmiddlewaretoken": token,
                    "full_name": f"Нагрузочный Тест {self.index}",
                    "email": f"bench{self.index}.{n}@example.com",
                    "phone": f"+7900{self.index:03d}{n % 10000:04d}",
                    "queue": queue,
                    "kind": "question",
                    "subject": "Не приходит СМС-код",
                    "text": "Здравствуйте! Третий день не приходит код подтверждения. " * 3,
                    "number": "",
                    "inn": "",
                    "consent": "on",
                }
            )
            headers = {"Content-Type": content_type, "Cookie": cookie}
            started = time.perf_counter()
            try:
                conn.request("POST", "/appeal/", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                location = response.getheader("Location", "")
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                conn = self._connect()
                status, location = type(exc).__name__, ""
            self.latencies.append(time.perf_counter() - started)
            if status == 302 and "/appeal/done/" in location:
                self.ok += 1
            else:
                self.failed[str(status)] = self.failed.get(str(status), 0) + 1
        conn.close()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run_clients(args, ports: list[int]) -> tuple[list[Client], float]:
    start = threading.Event()
    per_client = [args.requests // args.clients] * args.clients
    for i in range(args.requests % args.clients):
        per_client[i] += 1
    clients = [
        Client(i, "127.0.0.1", ports[i % len(ports)], per_client[i], [], start)
        for i in range(args.clients)
    ]
    for client in clients:
        client.start()
    time.sleep(0.5)  # every client has its form and cookie
    began = time.perf_counter()
    start.set()
    total = sum(per_client)
    while any(c.is_alive() for c in clients):
        done = sum(len(c.latencies) for c in clients)
        elapsed = time.perf_counter() - began
        bar = "#" * int(30 * done / total)
        print(
            f"\r[{bar:<30}] {done}/{total} {done / max(elapsed, 1e-9):6.0f} req/s",
            end="",
            flush=True,
        )
        time.sleep(0.5)
    elapsed = time.perf_counter() - began
    print()
    return clients, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="target a running server instead of starting one")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=3000, help="appeals in total")
    parser.add_argument("--warmup", type=int, default=200, help="appeals posted before measuring")
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--seed-tickets", type=int, default=0, help="tickets in the database first")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument(
        "--proxy",
        action="store_true",
        help="clients go through nginx balancing the processes (deploy/nginx.multinode.conf)",
    )
    args = parser.parse_args()

    processes: list[subprocess.Popen] = []
    if args.url:
        parsed = urllib.parse.urlparse(args.url)
        ports = [parsed.port or 80]
    else:
        env = server_env(args)
        prepare_database(args, env)
        processes = start_servers(args, env)
        ports = [args.port + i for i in range(args.workers)]
    stack = contextlib.ExitStack()
    if args.proxy:
        from proxy import nginx_in_front

        proxied = stack.enter_context(nginx_in_front(ports))
        ports = [urllib.parse.urlparse(proxied).port]
    try:
        if args.warmup:
            warm = argparse.Namespace(**{**vars(args), "requests": args.warmup})
            log(f"warm-up: {args.warmup} appeals")
            run_clients(warm, ports)
        before = count_tickets(args.database_url)
        pids = [p.pid for p in processes]
        cpu_before = cpu_snapshot(pids)
        log(f"measuring: {args.requests} appeals from {args.clients} clients")
        clients, elapsed = run_clients(args, ports)
        cpu_after = cpu_snapshot(pids)
        after = count_tickets(args.database_url)
    finally:
        stack.close()
        stop_servers(processes)

    latencies = [x for c in clients for x in c.latencies]
    ok = sum(c.ok for c in clients)
    failed: dict[str, int] = {}
    for client in clients:
        for key, value in client.failed.items():
            failed[key] = failed.get(key, 0) + value
    created = after - before
    ms = 1000
    log("")
    behind = " behind nginx" if args.proxy else ""
    log(f"server:    {args.url or f'{args.workers} x {args.server}{behind}'}  database: PostgreSQL")
    log(f"clients:   {args.clients}   appeals: {len(latencies)}   time: {elapsed:.2f} s")
    log(f"success:   {ok}   failed: {failed or 0}")
    log(f"rate:      {ok / elapsed:.1f} appeals/s")
    log(
        f"latency:   p50 {percentile(latencies, 0.50) * ms:.1f} ms   "
        f"p95 {percentile(latencies, 0.95) * ms:.1f} ms   "
        f"p99 {percentile(latencies, 0.99) * ms:.1f} ms   "
        f"mean {statistics.fmean(latencies) * ms:.1f} ms"
    )
    per = {k: (cpu_after[k] - cpu_before[k]) * ms / max(len(latencies), 1) for k in cpu_after}
    log(
        "cpu/appeal: "
        + "   ".join(f"{k} {v:.1f} ms" for k, v in per.items())
        + f"   (machine: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f})"
    )
    log(f"tickets:   {created} created, {ok} successes -> {'OK' if created == ok else 'MISMATCH'}")
    return 0 if created == ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
