"""Real daphne processes on the test database, for integration and browser tests.

The processes get DATABASE_URL pointing at the database pytest-django created (so the
test must be transactional: rows it writes are committed and visible to them) and the
same REDIS_URL, so several processes share one channel layer.
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
# Ports reserved for the chat work (8600-8699); integration and browser tests differ.
PORTS = {"integration": (8611, 8612), "browser": (8621,), "browser_end": (8623,)}


def database_url_for_subprocess() -> str:
    """The test database as a URL another process can open, or skip the test."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = db.get("USER") or "postgres"
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        host = db.get("HOST") or "127.0.0.1"
        port = db.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"
    if connection.is_in_memory_db():
        pytest.skip(
            "needs a database another process can open: set DATABASE_URL=postgres://... "
            "or TEST_SQLITE_NAME=/tmp/test.sqlite3"
        )
    return f"sqlite:///{db['NAME']}"


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@contextmanager
def daphne_processes(ports, *, media_root: Path, extra_env: dict | None = None):
    """Start one daphne per port; yield their base URLs; stop them afterwards."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL or "",
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MEDIA_ROOT": str(media_root),
        "CHAT_START_RATE_LIMIT": "0",
        "CONN_MAX_AGE": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        **(extra_env or {}),
    }
    for port in ports:
        if not _port_free(port):
            pytest.skip(f"port {port} is in use")
    daphne = str(Path(sys.executable).with_name("daphne"))
    procs = [
        subprocess.Popen(
            [daphne, "-b", "127.0.0.1", "-p", str(port), "helpdesk.asgi:application"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for proc, url in zip(procs, urls, strict=True):
            _wait_ready(proc, url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ready(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"daphne at {url} exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{url}/chat/widget.js", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"daphne at {url} did not start")
