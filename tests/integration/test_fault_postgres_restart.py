"""PostgreSQL restarted during intake (issue 22, item 2): while it is down the form answers
a friendly 503 page, nothing is half-written, the service resumes by itself, and every
accepted appeal has its ticket, its message and its auto-reply exactly once.

A real web process (`python -m helpdesk.serve`, production mode) on the test's own
PostgreSQL cluster (initdb + pg_ctl on a private data directory and port), loaded with a
copy of the test database, so that stopping it disturbs nobody else.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.chat.live import _port_free
from tests.integration.web_process import start_web_process, stop_web_process
from tickets.models import Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
PG_PORT = 8453
WEB_PORT = 8752
WAIT = 60  # seconds for something that takes one or two


def _pg_bin() -> Path | None:
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(os.path.realpath(pg_ctl)).parent
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _as_cluster_owner(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: the cluster belongs to the postgres user then.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextmanager
def private_cluster():
    """A throwaway PostgreSQL cluster; yields (pg_ctl command prefix, its URL)."""
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("needs PostgreSQL's server binaries (initdb, pg_ctl)")
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root needs a postgres user to own the test cluster")
    if not _port_free(PG_PORT):
        pytest.skip(f"port {PG_PORT} is in use")
    data = Path(tempfile.mkdtemp(prefix="hd-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        os.chown(data, owner.pw_uid, owner.pw_gid)
    pg_ctl = _as_cluster_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-w"])
    try:
        subprocess.run(
            _as_cluster_owner(
                [str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
                + ["-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]
            ),
            check=True,
            capture_output=True,
            timeout=WAIT,
        )
        options = f"-p {PG_PORT} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*pg_ctl, "-l", str(data / "log"), "-o", options, "start"],
            check=True,
            capture_output=True,
            timeout=WAIT,
        )
        yield pg_ctl, options, data
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=WAIT)
        shutil.rmtree(data, ignore_errors=True)


def _copy_test_database(url: str) -> None:
    db = connection.settings_dict
    dump = subprocess.run(
        ["pg_dump", "--no-owner", "--no-privileges", "-h", db.get("HOST") or "127.0.0.1"]
        + ["-p", str(db.get("PORT") or 5432), "-U", db.get("USER") or "postgres", db["NAME"]],
        check=True,
        capture_output=True,
        timeout=WAIT,
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
    ).stdout
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE helpdesk")
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", url],
        input=dump,
        check=True,
        capture_output=True,
        timeout=WAIT,
    )


@contextmanager
def web_process(database_url: str, tmp_path: Path, static_root: Path, extra_env: dict):
    proc, url = start_web_process(
        tmp_path,
        port=WEB_PORT,
        database_url=database_url,
        production=True,
        extra_env={"REDIS_URL": "", "STATIC_ROOT": str(static_root), **extra_env},
    )
    try:
        yield url
    finally:
        stop_web_process(proc)


class Citizen:
    """Files appeals through the real form, with the CSRF token from one visit."""

    def __init__(self, url: str, queue_id: int):
        self.url = url
        self.queue_id = queue_id
        self.client = httpx.Client(timeout=30)
        page = self.client.get(f"{url}/appeal/")
        assert page.status_code == 200
        self.token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        # Production cookies are Secure: the proxy speaks HTTPS, this test plain HTTP.
        self.cookie = f"csrftoken={page.cookies['csrftoken']}"
        self.sent = 0

    def file_appeal(self) -> httpx.Response:
        self.sent += 1
        n = self.sent
        return self.client.post(
            f"{self.url}/appeal/",
            data={
                "csrfmiddlewaretoken": self.token,
                "full_name": f"Заявитель Номер {n}",
                "email": f"citizen{n}@example.com",
                "queue": str(self.queue_id),
                "kind": Ticket.Kind.QUESTION,
                "subject": f"Обращение {n}",
                "text": "Не приходит СМС-код при входе.",
                "consent": "on",
            },
            headers={"Cookie": self.cookie},
        )


def _accepted_reference(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text[:500]
    return re.search(r"/appeal/done/([^/]+)/", response.headers["location"])[1]


@pytest.mark.parametrize(
    "connections",
    [
        {"DB_POOL": "true", "DB_POOL_TIMEOUT": "3"},  # compose's setting
        {"DB_POOL": "false", "CONN_MAX_AGE": "60"},  # one persistent connection per thread
    ],
    ids=["pool", "persistent"],
)
def test_postgres_restart_during_intake_loses_and_duplicates_nothing(
    tmp_path, queue, connections, static_root
):
    with private_cluster() as (pg_ctl, options, _data):
        database_url = f"postgres://postgres@127.0.0.1:{PG_PORT}/helpdesk"
        _copy_test_database(database_url)
        with web_process(database_url, tmp_path, static_root, connections) as url:
            citizen = Citizen(url, queue.pk)
            accepted = [_accepted_reference(citizen.file_appeal()) for _ in range(3)]

            subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=True, capture_output=True)
            refused = [citizen.file_appeal() for _ in range(3)]
            ready_while_down = httpx.get(f"{url}/healthz/ready", timeout=30).status_code

            subprocess.run(
                [*pg_ctl, "-l", str(_data / "log"), "-o", options, "start"],
                check=True,
                capture_output=True,
            )
            # Service comes back by itself: no restart of the web process.
            while_recovering = []
            deadline = time.monotonic() + WAIT
            while True:
                response = citizen.file_appeal()
                if response.status_code == 302:
                    accepted.append(_accepted_reference(response))
                    break
                while_recovering.append(response.status_code)
                assert time.monotonic() < deadline, f"never recovered: {while_recovering}"
                time.sleep(0.2)
            accepted += [_accepted_reference(citizen.file_appeal()) for _ in range(3)]

        with psycopg.connect(database_url) as db:
            tickets = db.execute(
                "SELECT t.id, count(m.id) FROM tickets_ticket t "
                "LEFT JOIN tickets_message m ON m.ticket_id = t.id GROUP BY t.id"
            ).fetchall()
            auto_replies = dict(
                db.execute(
                    "SELECT reference, count(*) FROM notifications_notification "
                    "WHERE kind = 'auto_reply' GROUP BY reference"
                ).fetchall()
            )
            citizens = db.execute(
                "SELECT count(*) FROM tickets_contact WHERE email LIKE 'citizen%%@example.com'"
            ).fetchone()[0]

    for response in refused:
        assert response.status_code == 503
        assert response.headers["retry-after"] == "30"
        assert "Временно недоступно" in response.text
    assert ready_while_down == 503
    assert set(while_recovering) <= {503}
    assert len(accepted) == len(set(accepted)) == 7
    assert len(tickets) == 7
    assert all(messages == 1 for _id, messages in tickets)
    assert auto_replies == dict.fromkeys(accepted, 1)
    assert citizens == 7
