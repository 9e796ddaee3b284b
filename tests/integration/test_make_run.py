"""The README's run command works: `make run` starts web, worker and beat on the embedded
defaults, takes an appeal through the public form, mails the auto-reply, and stops cleanly."""

import email
import email.policy
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from tests.chat.live import _port_free

pytestmark = pytest.mark.slow

BASE_DIR = Path(settings.BASE_DIR)
# Installing, migrating a fresh database and seeding the demo come first.
START_TIMEOUT = 600
MAIL_TIMEOUT = 180
STOP_TIMEOUT = 60
CITIZEN = "make-run-check@example.com"


def free_port() -> int:
    for port in range(18700, 18800):
        if _port_free(port):
            return port
    pytest.skip("no free port in 18700-18799")


def wait_until_ready(make: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if make.poll() is not None:
            pytest.fail(f"make run exited with {make.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"not ready after {START_TIMEOUT} s:\n{log.read_text()[-3000:]}")


def file_appeal(url: str) -> str:
    """Post the public form as a browser would (CSRF token and cookie); the number."""
    with httpx.Client(base_url=url, timeout=30) as browser:
        form = browser.get("/appeal/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
        queue = re.search(r'name="queue"[^>]*>.*?<option value="(\d+)"', form.text, re.S)[1]
        done = browser.post(
            "/appeal/",
            data={
                "csrfmiddlewaretoken": token,
                "full_name": "Проверкин Иван Петрович",
                "email": CITIZEN,
                "queue": queue,
                "kind": "question",
                "subject": "Проверка make run",
                "text": "Не приходит СМС-код при входе.",
                "consent": "on",
            },
        )
    assert done.status_code == 302, done.text[:1000]
    return re.search(r"/appeal/done/([^/]+)/", done.headers["location"])[1]


def auto_reply_subject(mail_dir: Path) -> str | None:
    for path in sorted(mail_dir.glob("*")):
        # Django's file backend appends messages to a file, each followed by a line of dashes.
        for raw in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
            message = email.message_from_string(raw.lstrip(), policy=email.policy.default)
            if message["To"] and CITIZEN in message["To"]:
                return str(message["Subject"])
    return None


def wait_for_auto_reply(mail_dir: Path, log: Path) -> str:
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        subject = auto_reply_subject(mail_dir)
        if subject:
            return subject
        time.sleep(1)
    pytest.fail(f"no auto-reply in {mail_dir}:\n{log.read_text()[-3000:]}")


def processes_with(marker: str) -> list[int]:
    """Pids of the processes whose environment holds `marker` (this test's own folder):
    make, the script and every server it started, whatever session they run in."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    pids.append(int(proc.name))
            except OSError:
                continue
    return pids


def test_make_run_takes_an_appeal_mails_the_auto_reply_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "EMAIL_URL": f"filemail://{tmp_path / 'mail'}",
        "CELERY_BROKER_FOLDER": str(tmp_path / "broker"),
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    marker = f"CELERY_BROKER_FOLDER={env['CELERY_BROKER_FOLDER']}"
    log = tmp_path / "make.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        # Its own session: the signal below reaches nothing of the test's.
        make = subprocess.Popen(
            ["make", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_ready(make, url, log)
        number = file_appeal(url)

        subject = wait_for_auto_reply(tmp_path / "mail", log)
        assert number in subject

        # What a terminal's Ctrl-C or a supervisor's stop does: signal make's whole group.
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.5)
        output = log.read_text()
        assert not re.search(r"^make(\[\d+\])?: \*\*\*", output, re.M), output[-3000:]
        assert "Traceback" not in output, output[-3000:]
        assert processes_with(marker) == [], "processes of make run outlived it"
        assert _port_free(port)
    finally:
        for pid in processes_with(marker):
            os.kill(pid, signal.SIGKILL)
        make.wait()
