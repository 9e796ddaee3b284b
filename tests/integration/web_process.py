"""One real web process (`python -m helpdesk.serve`) for the integration tests."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.chat.live import _port_free

BASE_DIR = Path(settings.BASE_DIR)
START_TIMEOUT = 60


def start_web_process(
    tmp_path: Path,
    *,
    port: int,
    database_url: str,
    app: str = "helpdesk.asgi:application",
    production: bool = False,
    extra_env: dict | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start it on 127.0.0.1:`port` and wait until it answers; its log is tmp_path/web.log."""
    if not _port_free(port):
        pytest.skip(f"port {port} is in use")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL or "",
        "DEBUG": "false" if production else "true",
        "SECRET_KEY": "integration-test-secret-key-0123456789abcdefghij",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        "EMAIL_URL": f"filemail://{tmp_path / 'mail'}",
        "APPEAL_RATE_LIMIT": "0",
        "LOG_LEVEL": "INFO",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        **(extra_env or {}),
    }
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "helpdesk.serve", "-b", "127.0.0.1", "-p", str(port), app],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web process exited: {log_path.read_text()[-3000:]}")
        try:
            httpx.get(f"{url}/healthz/live", timeout=2)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("web process did not start")


def stop_web_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
