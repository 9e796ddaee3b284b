"""E-mail intake benchmark: messages/s and peak memory through the three code paths.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_email \\
        .venv/bin/python bench/email_ingest.py [--count 2000] [--pipe 100] [--no-imap]

1. batch: `email_ingest_batch` in-process in chunks of 50, as IMAP polling runs it;
   also `email_ingest` one message per call (webhook / in-process pipe);
2. imap: the same messages APPENDed to a throwaway Dovecot (127.0.0.1, port 8400-8499),
   then `mailbox_poll` fetches, ingests and deletes them;
3. pipe: `manage.py ingest_email FILE`, one process per message (MTA pipe).

Messages: the shared corpus (../shared/corpus/mail, MAIL_CORPUS_DIR) with fresh
Message-IDs, plus generated ones: Russian plain text in utf-8/koi8-r/cp1251, HTML-only,
attachments and inline images, replies (In-Reply-To), forwarded messages, auto-replies.
The database named in DATABASE_URL is migrated and its tickets are left in place.
"""

import argparse
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
MEDIA = Path(tempfile.mkdtemp(prefix="hd-bench-media-"))
os.environ["MEDIA_ROOT"] = str(MEDIA)
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "false")
# Auto-reply tasks go to a throwaway filesystem broker (no worker sends them).
BROKER = tempfile.mkdtemp(prefix="hd-bench-broker-")
os.environ.setdefault("CELERY_BROKER_FOLDER", BROKER)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

CORPUS = Path(os.environ.get("MAIL_CORPUS_DIR", ROOT.parent / "shared" / "corpus" / "mail"))
TEXTS = [
    "Здравствуйте! Не приходит СМС-код при входе в личный кабинет.",
    "Добрый день. Запись к врачу не сохраняется, выдаёт ошибку 500.",
    "Прошу разъяснить порядок получения справки через портал.",
    "Не могу оплатить госпошлину картой, страница зависает.",
]
NAMES = ["Иванов Иван", "Петрова Мария", "Сидоров Пётр", "Кузнецова Анна"]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fresh_id(raw: bytes, n: int) -> bytes:
    """Give a corpus message a unique Message-ID so it is not a duplicate of itself."""
    mid = f"<bench-{n}-{uuid.uuid4().hex}@corpus.example>".encode()
    pattern = re.compile(rb"^Message-I[Dd]:[^\n]*(\n[ \t][^\n]*)*\n", re.M | re.I)
    raw, found = pattern.subn(b"Message-ID: " + mid + b"\n", raw, count=1)
    if not found:
        raw = b"Message-ID: " + mid + b"\n" + raw
    return raw


def generated(n: int, previous: list[tuple[str, str]]) -> tuple[bytes, tuple[str, str]]:
    kind = n % 8
    who = n % 300
    sender = f"{NAMES[who % len(NAMES)]} <citizen{who}@example.com>"
    msg = EmailMessage()
    mid = make_msgid(domain="bench.example")
    msg["From"] = sender
    msg["To"] = "navigator@support.example"
    msg["Message-ID"] = mid
    msg["Subject"] = f"Обращение {n}: {TEXTS[n % len(TEXTS)][:30]}"
    text = TEXTS[n % len(TEXTS)] + f"\n\nНомер заявления {n}.\n\n-- \nС уважением, {NAMES[who % 4]}"
    if kind == 1 and previous:
        # A reply from the same citizen to their earlier message (threads onto it).
        same = [p for p in previous if p[0] == sender] or previous
        msg.replace_header("From", same[-1][0])
        msg["In-Reply-To"] = same[-1][1]
        msg.replace_header("Subject", "Re: " + msg["Subject"])
        text = "Дополняю: проблема сохраняется.\n\nOn Mon, 1 Jan 2024, Support wrote:\n> ..."
    if kind == 2:
        msg.set_content(text, charset="koi8-r", cte="8bit")
    elif kind == 3:
        msg.set_content(text, charset="windows-1251", cte="quoted-printable")
    elif kind == 4:
        msg.set_content(
            "<p>" + text.replace("\n", "<br>") + "</p><script>x()</script>", subtype="html"
        )
    else:
        msg.set_content(text)
    if kind == 5:
        msg.add_attachment(
            b"%PDF-1.4\n" + os.urandom(20_000),
            maintype="application",
            subtype="pdf",
            filename="заявление №5.pdf",
        )
        msg.add_attachment(os.urandom(3000), maintype="image", subtype="png", filename="скрин.png")
    if kind == 6:
        inner = EmailMessage()
        inner["From"] = "other@example.com"
        inner["Subject"] = "Исходное письмо"
        inner.set_content("Пересылаемый текст")
        msg.add_attachment(inner)
    if kind == 7:
        msg["Auto-Submitted"] = "auto-replied"
        msg.replace_header("Subject", "Автоответ: " + msg["Subject"])
    return msg.as_bytes(), (msg["From"], mid)


def build_messages(count: int) -> list[bytes]:
    corpus = []
    if CORPUS.is_dir():
        corpus = [
            p.read_bytes()
            for p in sorted(CORPUS.rglob("*"))
            if p.is_file() and p.name not in ("MANIFEST.md", "expected.jsonl")
        ]
    messages, previous = [], []
    for n in range(count):
        if corpus and n % 5 == 0:
            messages.append(fresh_id(corpus[(n // 5) % len(corpus)], n))
        else:
            raw, ref = generated(n, previous)
            previous.append(ref)
            messages.append(raw)
    return messages


def setup_db():
    print(f"database: {connection.vendor} {settings.DATABASES['default'].get('NAME')}")
    call_command("migrate", verbosity=0)
    from tickets.models import Queue

    Queue.objects.get_or_create(
        slug="navigator",
        defaults={"name": "Сайт Навигатора", "email_address": "navigator@support.example"},
    )


def report(label: str, results, seconds: float, rss_before: float, cpu: float = 0.0) -> None:
    statuses = {}
    for r in results:
        statuses[r] = statuses.get(r, 0) + 1
    load = os.getloadavg()[0]
    if cpu:
        # Python-side CPU only (parse + ORM); a busy machine stretches wall time, not this.
        print(f"  {label}: {cpu / len(results) * 1000:.2f} ms Python CPU per message")
    print(f"  load average during the run: {load:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{label}: {len(results)} messages in {seconds:.2f} s = "
        f"{len(results) / seconds:.1f} msg/s; "
        f"peak RSS {rss_mib():.0f} MiB (+{rss_mib() - rss_before:.0f}); {statuses}"
    )


def run_batch(messages: list[bytes], size: int) -> None:
    """`email_ingest_batch` in chunks, exactly as IMAP polling calls it."""
    from tickets.intake.ingest import email_ingest_batch

    rss = rss_mib()
    results = []
    cpu = time.process_time()
    started = time.perf_counter()
    for i in range(0, len(messages), size):
        chunk = messages[i : i + size]
        results += [r.status for r in email_ingest_batch(chunk, source="imap")]
        if (i // size) % 10 == 9:
            done = i + len(chunk)
            print(
                f"  batch {done}/{len(messages)} {done / (time.perf_counter() - started):.0f} msg/s"
            )
    report(
        f"batch (email_ingest_batch, {size} per commit)",
        results,
        time.perf_counter() - started,
        rss,
        time.process_time() - cpu,
    )


def run_single(messages: list[bytes]) -> None:
    """`email_ingest` one message per call: two commits each (webhook, pipe in-process)."""
    from tickets.intake.ingest import email_ingest

    rss = rss_mib()
    cpu = time.process_time()
    started = time.perf_counter()
    results = [email_ingest(raw, source="webhook").status for raw in messages]
    seconds = time.perf_counter() - started
    report(
        "single (email_ingest, 2 commits each)", results, seconds, rss, time.process_time() - cpu
    )


def _port() -> int:
    for port in range(8400, 8500):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


def start_dovecot() -> tuple[subprocess.Popen, int, Path]:
    import pwd

    root = Path(tempfile.mkdtemp(prefix="hd-bench-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "mail", "state"):
        (root / sub).mkdir()
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        entry = pwd.getpwnam("dovecot")
        uid, gid = entry.pw_uid, entry.pw_gid
        os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text("bench:{PLAIN}bench-pass::::::\n")
    port = _port()
    (root / "dovecot.conf").write_text(f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
first_valid_gid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service auth {{
  user = root
}}
service auth-worker {{
  user = root
}}
service anvil {{
  chroot =
}}
""")
    dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
    process = subprocess.Popen([dovecot, "-F", "-c", str(root / "dovecot.conf")])
    import imaplib

    deadline = time.monotonic() + 20
    while True:
        try:
            client = imaplib.IMAP4("127.0.0.1", port)
            client.login("bench", "bench-pass")
            client.logout()
            return process, port, root
        except (OSError, imaplib.IMAP4.error):
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.1)


def run_imap(messages: list[bytes]) -> None:
    import imaplib

    from tickets.intake.imap import mailbox_poll
    from tickets.models import Mailbox, Queue

    process, port, root = start_dovecot()
    try:
        client = imaplib.IMAP4("127.0.0.1", port)
        client.login("bench", "bench-pass")
        started = time.perf_counter()
        for raw in messages:
            client.append("INBOX", None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        client.logout()
        print(f"  appended {len(messages)} to dovecot in {time.perf_counter() - started:.1f} s")
        mailbox, _ = Mailbox.objects.update_or_create(
            username="bench",
            host="127.0.0.1",
            defaults={
                "queue": Queue.objects.get(slug="navigator"),
                "port": port,
                "security": Mailbox.Security.NONE,
                "password": "bench-pass",
                "is_active": False,  # not picked up by the beat task elsewhere
            },
        )
        rss = rss_mib()
        cpu = time.process_time()
        started = time.perf_counter()
        stats = mailbox_poll(mailbox=mailbox)
        seconds = time.perf_counter() - started
        fetched = stats["fetched"]
        cpu_ms = (time.process_time() - cpu) / max(fetched, 1) * 1000
        print(f"  imap: {cpu_ms:.2f} ms Python CPU per message; load {os.getloadavg()[0]:.1f}")
        print(
            f"imap (fetch + ingest + delete): {fetched} messages in {seconds:.2f} s = "
            f"{fetched / seconds:.1f} msg/s; peak RSS {rss_mib():.0f} MiB "
            f"(+{rss_mib() - rss:.0f}); {stats}"
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def run_pipe(messages: list[bytes]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hd-bench-pipe-"))
    outputs = []
    started = time.perf_counter()
    for i, raw in enumerate(messages):
        path = folder / f"{i}.eml"
        path.write_bytes(raw)
        done = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "ingest_email", str(path)],
            capture_output=True,
            text=True,
            env=os.environ,
        )
        outputs.append(
            f"exit {done.returncode}" if done.returncode else done.stdout.split(" ")[0].strip()
        )
    seconds = time.perf_counter() - started
    kinds = ["ticket" if o.startswith(settings.TICKET_PREFIX) else o for o in outputs]
    report("pipe (one process per message)", kinds, seconds, rss_mib())
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    # SIGTERM (e.g. `timeout`) runs the finally blocks: Dovecot stopped, temp dirs gone.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--pipe", type=int, default=100)
    parser.add_argument("--no-imap", action="store_true")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--single", type=int, default=300, help="messages for email_ingest")
    args = parser.parse_args()
    random.seed(5)
    setup_db()
    print(f"building {args.count} messages (corpus: {CORPUS.is_dir()}) ...")
    messages = build_messages(args.count)
    print(f"  {sum(map(len, messages)) / 1024 / 1024:.1f} MiB in total")
    try:
        run_batch(messages, args.batch_size)
        if args.single:
            run_single(build_messages(args.single))
        if not args.no_imap:
            # The same kinds of messages again, with new Message-IDs (not duplicates).
            run_imap(build_messages(args.count))
        if args.pipe:
            run_pipe(build_messages(args.pipe))
    finally:
        shutil.rmtree(MEDIA, ignore_errors=True)
        shutil.rmtree(BROKER, ignore_errors=True)


if __name__ == "__main__":
    main()
