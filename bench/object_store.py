#!/usr/bin/env python3
"""Files through the object store: upload and download of a 5 MB file, p50/p95.

Starts one web process (`python -m helpdesk.serve`, DEBUG=false) twice: once with files on
the local disk, once with an S3 bucket on a moto server it starts in its own process (the
tests' S3 server; --endpoint for a real MinIO), and through each runs a citizen's chat
upload (`POST /chat/upload/`, multipart) and the download of every uploaded file
(`GET /chat/files/<id>/?t=…`), one request at a time. Prints latency percentiles and MB/s.
With --proxy a third run puts two web processes with MEDIA_ROOTs of their own and the
same bucket behind nginx (bench/proxy.py, the deployment's configuration): each request
may land on either node, and both media folders must stay empty (issue 23).

    .venv/bin/python bench/object_store.py                     # 30 files of 5 MB
    .venv/bin/python bench/object_store.py --files 60 --size-mb 10
    .venv/bin/python bench/object_store.py --proxy             # + two nodes behind nginx
    .venv/bin/python bench/object_store.py --endpoint http://127.0.0.1:9000 --bucket media \\
        --access-key minio --secret-key minio-secret          # a running MinIO

Needs PostgreSQL (--database-url, created and migrated when missing). Not collected by pytest.
"""

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.object_store import free_port, moto_server, new_bucket  # noqa: E402

PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/hd_object_store_bench"


def log(message: str) -> None:
    print(message, flush=True)


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


@contextlib.contextmanager
def web_process(env: dict, port: int, log_path: Path):
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [PYTHON, "-m", "helpdesk.serve", "-b", "127.0.0.1", "-p", str(port)]
            + ["helpdesk.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/healthz/live", timeout=2)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(log_path.read_text()[-2000:]) from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def prepare(env: dict) -> str:
    """The bench queue's id, with an operator online (a superuser: every queue) so that
    a chat started now is live and takes files (presence lapses after 90 s)."""
    return manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; from chat.services import presence_set;"
        " from tickets.models import Queue;"
        " op = get_user_model().objects.get_or_create(username='bench-files-op',"
        " defaults={'is_staff': True, 'is_superuser': True})[0];"
        " presence_set(user=op, availability='online', max_chats=1000);"
        " print(Queue.objects.get_or_create(slug='bench-files',"
        " defaults={'name': 'Bench files'})[0].pk)",
    ).split()[-1]


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return (
        f"p50 {statistics.median(ordered) * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms  "
        f"max {ordered[-1] * 1000:7.1f} ms"
    )


def run(url: str, queue_id: str, payload: bytes, files: int) -> dict:
    with httpx.Client(base_url=url, timeout=120) as client:
        started = client.post(
            "/chat/start/",
            data={
                "full_name": "Бенчмарк",
                "email": "bench@example.com",
                "queue": queue_id,
                "text": "файлы",
            },
        )
        if started.status_code != 200:
            raise RuntimeError(f"chat start: {started.status_code} {started.text[:500]}")
        token = started.json()["token"]
        uploads, downloads, ids = [], [], []
        for i in range(files):
            begin = time.perf_counter()
            answer = client.post(
                "/chat/upload/",
                data={"token": token},
                files={"file": (f"scan-{i}.pdf", payload, "application/pdf")},
            )
            uploads.append(time.perf_counter() - begin)
            answer.raise_for_status()
            ids.append(answer.json()["line"]["files"][0]["id"])
        for attachment_id in ids:
            begin = time.perf_counter()
            answer = client.get(f"/chat/files/{attachment_id}/", params={"t": token})
            downloads.append(time.perf_counter() - begin)
            if answer.status_code != 200 or answer.content != payload:
                raise RuntimeError(f"download {attachment_id}: {answer.status_code}")
    return {"upload": uploads, "download": downloads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--size-mb", type=float, default=5)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--endpoint", help="a running S3-compatible store instead of moto")
    parser.add_argument("--bucket", default="helpdesk-bench")
    parser.add_argument("--access-key", default="")
    parser.add_argument("--secret-key", default="")
    parser.add_argument("--proxy", action="store_true", help="also two nodes behind nginx")
    args = parser.parse_args()

    payload = os.urandom(int(args.size_mb * 1024 * 1024))
    ensure_database(args.database_url)
    work = Path(tempfile.mkdtemp(prefix="bench-object-store-"))
    base_env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "CHAT_START_RATE_LIMIT": "0",
        "CHAT_RATE_LIMIT": "0",
        "UPLOAD_MAX_BYTES": str(len(payload) + 1),
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(work / "media"),
        "CELERY_BROKER_FOLDER": str(work / "broker"),
        "EMAIL_URL": "dummymail://",
    }
    manage(base_env, "migrate", "--noinput")
    log(f"{args.files} files of {len(payload) / 1e6:.1f} MB, one request at a time")

    with contextlib.ExitStack() as stack:
        if args.endpoint:
            store_env = {
                "AWS_STORAGE_BUCKET_NAME": args.bucket,
                "AWS_S3_ENDPOINT_URL": args.endpoint,
                "AWS_ACCESS_KEY_ID": args.access_key,
                "AWS_SECRET_ACCESS_KEY": args.secret_key,
                "AWS_S3_ADDRESSING_STYLE": "path",
            }
        else:
            endpoint = stack.enter_context(moto_server(work / "moto.log"))
            store_env = new_bucket(endpoint, args.bucket).env()
        for label, extra in (("local disk", {}), ("object store", store_env)):
            with web_process({**base_env, **extra}, free_port(), work / "web.log") as url:
                figures = run(url, prepare(base_env), payload, args.files)
            report(label, figures, len(payload))
        if args.proxy:
            figures = two_nodes(stack, base_env, store_env, work, payload, args.files)
            report("2 nodes+nginx", figures, len(payload))


def report(label: str, figures: dict, size: int) -> None:
    for kind in ("upload", "download"):
        samples = figures[kind]
        rate = size * len(samples) / sum(samples) / 1e6
        log(f"{label:13} {kind:8} {percentiles(samples)}  {rate:6.1f} MB/s")


def two_nodes(stack, base_env: dict, store_env: dict, work: Path, payload: bytes, files: int):
    """Uploads and downloads through nginx over two nodes that share only the bucket."""
    from proxy import nginx_in_front

    ports, folders = [], []
    for name in ("node-a", "node-b"):
        folder = work / name
        folder.mkdir()
        folders.append(folder / "files")
        env = {**base_env, **store_env, "MEDIA_ROOT": str(folders[-1])}
        port = free_port()
        stack.enter_context(web_process(env, port, folder / "web.log"))
        ports.append(port)
    url = stack.enter_context(nginx_in_front(ports))
    figures = run(url, prepare(base_env), payload, files)
    left = [path for folder in folders if folder.exists() for path in folder.rglob("*")]
    left = [path for path in left if path.is_file()]
    log(f"files left in the nodes' own media folders: {len(left)}")
    if left:
        raise SystemExit("a node kept a file on its own disk: " + ", ".join(map(str, left[:5])))
    return figures


if __name__ == "__main__":
    main()
