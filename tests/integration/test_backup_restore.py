"""Backups that restore (issue 22, item 4): the procedure of `docs/operations.md` — a
`pg_dump -Fc` of the database and a tar of MEDIA_ROOT, restored into a new database and
a new media folder — brings back every ticket, message and attachment of the original,
with the attachments' bytes, and the audit chain still verifies.
"""

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from audit.services import audit_record
from tests.chat.live import database_url_for_subprocess
from tests.factories import ContactFactory, UserFactory
from tickets.models import Ticket
from tickets.services.creation import ticket_create
from tickets.services.messages import message_add_from_requester, message_add_reply

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMEOUT = 120

SNAPSHOT_QUERIES = {
    "tickets": "SELECT number, subject, status, channel, kind FROM tickets_ticket",
    "messages": (
        "SELECT t.number, m.author_kind, m.is_internal, m.text FROM tickets_message m "
        "JOIN tickets_ticket t ON t.id = m.ticket_id"
    ),
    "attachments": (
        "SELECT t.number, a.filename, a.file, a.size, a.content_type FROM tickets_attachment a "
        "JOIN tickets_ticket t ON t.id = a.ticket_id"
    ),
}


def _snapshot(cursor) -> dict[str, list[tuple]]:
    snapshot = {}
    for name, sql in SNAPSHOT_QUERIES.items():
        cursor.execute(sql)
        snapshot[name] = sorted(cursor.fetchall())
    return snapshot


def _file_digests(media_root: Path, attachments: list[tuple]) -> dict[str, str]:
    return {
        path: hashlib.sha256((media_root / path).read_bytes()).hexdigest()
        for _number, _name, path, _size, _type in attachments
    }


def _appeals_with_files(queue) -> None:
    operator = UserFactory(username="backup-operator")
    for n in range(1, 6):
        ticket = ticket_create(
            queue=queue,
            requester=ContactFactory(),
            channel=Ticket.Channel.WEB,
            subject=f"Обращение {n}",
            text=f"Текст обращения {n}: не приходит СМС-код.",
            attachments=[
                SimpleUploadedFile(f"скан-{n}.pdf", os.urandom(2000 + n), "application/pdf"),
                SimpleUploadedFile(f"photo-{n}.png", os.urandom(500 + n), "image/png"),
            ],
        )
        message_add_reply(ticket=ticket, author=operator, text=f"Ответ оператора {n}")
        message_add_reply(ticket=ticket, author=operator, text=f"Заметка {n}", is_internal=True)
        message_add_from_requester(
            ticket=ticket,
            text=f"Спасибо, ещё вопрос {n}",
            channel=Ticket.Channel.WEB,
            attachments=[SimpleUploadedFile(f"ещё-{n}.txt", f"файл {n}".encode())],
        )
    audit_record("backup.test", actor=operator, object_label="before the dump")


def _pg_args() -> list[str]:
    db = connection.settings_dict
    return [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
    ]


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PGPASSWORD": connection.settings_dict.get("PASSWORD") or ""}
    return subprocess.run(
        command, check=True, capture_output=True, timeout=TIMEOUT, env=env, **kwargs
    )


def test_a_dump_and_a_media_archive_restore_every_ticket_message_and_attachment(queue, tmp_path):
    _appeals_with_files(queue)
    media_root = Path(settings.MEDIA_ROOT)
    with connection.cursor() as cursor:
        original = _snapshot(cursor)
    original_files = _file_digests(media_root, original["attachments"])

    # The backup, as docs/operations.md says: database first, then the media folder.
    dump = tmp_path / "helpdesk.dump"
    _run(
        [
            "pg_dump",
            *_pg_args(),
            "-Fc",
            "--no-owner",
            "-f",
            str(dump),
            connection.settings_dict["NAME"],
        ]
    )
    archive = tmp_path / "media.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(media_root, arcname=".")

    # The restore: a new database and a new media folder.
    restored_name = f"{connection.settings_dict['NAME']}_restored"
    _run(["dropdb", *_pg_args(), "--if-exists", restored_name])
    _run(["createdb", *_pg_args(), restored_name])
    try:
        _run(
            [
                "pg_restore",
                *_pg_args(),
                "--no-owner",
                "--exit-on-error",
                "-d",
                restored_name,
                str(dump),
            ]
        )
        restored_media = tmp_path / "restored-media"
        with tarfile.open(archive) as tar:
            tar.extractall(restored_media, filter="data")

        restored_url = database_url_for_subprocess().rsplit("/", 1)[0] + f"/{restored_name}"
        with psycopg.connect(restored_url) as db, db.cursor() as cursor:
            restored = _snapshot(cursor)
        verified = subprocess.run(
            [sys.executable, "manage.py", "audit_verify"],
            cwd=settings.BASE_DIR,
            env={**os.environ, "DATABASE_URL": restored_url, "REDIS_URL": ""},
            capture_output=True,
            timeout=TIMEOUT,
        )
    finally:
        _run(["dropdb", *_pg_args(), "--if-exists", restored_name])

    assert len(original["tickets"]) == 5
    assert len(original["messages"]) == 20
    assert len(original["attachments"]) == 15
    assert restored == original
    assert _file_digests(restored_media, restored["attachments"]) == original_files
    assert verified.returncode == 0, verified.stdout + verified.stderr
