#!/usr/bin/env python3
"""What the web stack alone costs on this machine: the ceiling any view can reach.

Starts 2 uvicorn processes (as bench/intake.py does) serving two do-nothing views from
bench/floor/ and loads them with `wrk` (Debian package `wrk`) at 8 connections:

* `GET /hello/`: routing, middleware, a 200 response;
* `POST /insert/`: parse a small form, INSERT one row in one transaction, redirect (the
  skeleton of an appeal, which does this with 11 statements instead of one).

Each under two ways of running Django in an ASGI server: Django's own ASGI handler and
the project's (Django's WSGI handler on a thread pool through a2wsgi, helpdesk/asgi.py).

    .venv/bin/python bench/http_floor.py [--database-url postgres://…/hd_floor] [--seconds 10]

Not collected by pytest.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/hd_floor_bench"
POST_SCRIPT = """wrk.method = "POST"
wrk.body = "v=hello&a=1&b=2"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
"""


def log(message: str) -> None:
    print(message, flush=True)


def psql(database_url: str, sql: str) -> None:
    subprocess.run(["psql", database_url, "-q", "-c", sql], check=True)


def ensure_database(database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    admin_url = database_url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(
        ["psql", admin_url, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        psql(admin_url, f'CREATE DATABASE "{name}"')
    psql(
        database_url,
        "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, value text)",
    )


def start(handler: str, args) -> list[subprocess.Popen]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": f"{ROOT / 'bench'}{os.pathsep}{ROOT}",
            "DJANGO_SETTINGS_MODULE": "floor.settings",
            "FLOOR_HANDLER": handler,
            "DATABASE_URL": args.database_url,
            "DEBUG": "false",
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            # Django's ASGI handler runs each request in a new thread: pool the connections.
            "DB_POOL": "true" if handler == "django-asgi" else "false",
        }
    )
    processes = []
    for i in range(args.workers):
        cmd = [
            str(ROOT / ".venv" / "bin" / "uvicorn"),
            "floor.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.port + i),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        processes.append(subprocess.Popen(cmd, cwd=ROOT, env=env))
    for i in range(args.workers):
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port + i}/hello/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"server on port {args.port + i} did not start") from None
                time.sleep(0.3)
    return processes


def load(path: str, script: str | None, args) -> dict:
    """wrk against the first process only would leave the second idle: one wrk per port,
    the connections split between them, run in parallel."""
    runs = []
    for i in range(args.workers):
        cmd = ["wrk", "-t1", f"-c{args.clients // args.workers}", f"-d{args.seconds}s", "--latency"]
        if script:
            cmd += ["-s", script]
        runs.append(
            subprocess.Popen(
                [*cmd, f"http://127.0.0.1:{args.port + i}{path}"],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
    outputs = [run.communicate()[0] for run in runs]
    rate = sum(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)) for out in outputs)
    p50 = max(_percentile(out, "50%") for out in outputs)
    p99 = max(_percentile(out, "99%") for out in outputs)
    errors = sum(
        int(m.group(1))
        for out in outputs
        if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out))
    )
    return {"rate": rate, "p50": p50, "p99": p99, "errors": errors}


def _percentile(output: str, label: str) -> float:
    value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8170)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("needs wrk: apt-get install wrk")
    ensure_database(args.database_url)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(POST_SCRIPT)
    log(f"machine: {os.cpu_count()} cores, load avg {os.getloadavg()[0]:.1f}")
    log(f"{args.workers} x uvicorn, {args.clients} connections, {args.seconds} s per line")
    log(f"{'handler':<12} {'request':<14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    try:
        for handler in ("django-asgi", "a2wsgi"):
            processes = start(handler, args)
            try:
                for label, path, lua in (
                    ("GET /hello/", "/hello/", None),
                    ("POST /insert/", "/insert/", script.name),
                ):
                    load(path, lua, argparse.Namespace(**{**vars(args), "seconds": 2}))  # warm-up
                    r = load(path, lua, args)
                    log(
                        f"{handler:<12} {label:<14} {r['rate']:>8.0f} {r['p50']:>8.1f} "
                        f"{r['p99']:>8.1f} {r['errors']:>7}"
                    )
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    process.wait(timeout=10)
    finally:
        os.unlink(script.name)
        psql(args.database_url, "DROP TABLE IF EXISTS bench_floor")


if __name__ == "__main__":
    main()
