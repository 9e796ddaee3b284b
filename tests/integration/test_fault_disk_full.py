"""The disk for attachments full (issue 22, item 2): an appeal with files is refused with a
clear Russian message and the form keeps the citizen's text; nothing is half-written, no
file part is left on the full disk, and the same text without the files goes through.

A real web process (production mode) whose MEDIA_ROOT is a tiny tmpfs, so the write fails
with the operating system's own ENOSPC. Mounting needs root; the test skips without it.
"""

import html
import os
import re
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.chat.live import database_url_for_subprocess
from tests.integration.web_process import start_web_process, stop_web_process
from tickets.models import Attachment, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PORT = 8753
TEXT = "Не приходит СМС-код при входе. Прикладываю скан паспорта и снимок экрана."


@pytest.fixture
def full_disk():
    """A 256 KiB tmpfs: room for a small file, not for a scan."""
    mountpoint = Path(tempfile.mkdtemp(prefix="hd-media-", dir="/tmp"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0777", "tmpfs", str(mountpoint)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        mountpoint.rmdir()
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], capture_output=True)
        mountpoint.rmdir()


def _files_on(root: Path) -> list[str]:
    return [str(Path(d, f).relative_to(root)) for d, _dirs, files in os.walk(root) for f in files]


def test_an_upload_to_a_full_disk_is_refused_clearly_and_the_text_is_kept(
    tmp_path, queue, full_disk, static_root, translations
):
    proc, url = start_web_process(
        tmp_path,
        port=PORT,
        database_url=database_url_for_subprocess(),
        production=True,
        extra_env={
            "REDIS_URL": "",
            "CONN_MAX_AGE": "0",
            "STATIC_ROOT": str(static_root),
            "MEDIA_ROOT": str(full_disk),
        },
    )
    try:
        client = httpx.Client(timeout=30, headers={"Accept-Language": "ru"})
        page = client.get(f"{url}/appeal/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
        form = {
            "csrfmiddlewaretoken": token,
            "full_name": "Петрова Мария Ивановна",
            "email": "maria@example.com",
            "queue": str(queue.pk),
            "kind": Ticket.Kind.QUESTION,
            "subject": "Не приходит СМС-код",
            "text": TEXT,
            "consent": "on",
        }
        # Production cookies are Secure: the proxy speaks HTTPS, this test plain HTTP.
        cookie = {"Cookie": f"csrftoken={page.cookies['csrftoken']}"}
        refused = client.post(
            f"{url}/appeal/",
            data=form,
            files=[
                ("attachments", ("screen.png", os.urandom(20_000), "image/png")),
                ("attachments", ("passport.pdf", os.urandom(600_000), "application/pdf")),
            ],
            headers=cookie,
        )
        left_on_disk = _files_on(full_disk)
        tickets_after_refusal = Ticket.objects.count()
        accepted = client.post(f"{url}/appeal/", data=form, headers=cookie)
    finally:
        stop_web_process(proc)

    assert refused.status_code == 200
    page = html.unescape(refused.text)
    assert "На сервере сейчас нет места для файлов, и приложенные файлы не сохранены." in page
    assert TEXT in page  # the form comes back with what the citizen wrote
    assert tickets_after_refusal == 0
    assert left_on_disk == []  # neither the small file stored first nor the part of the scan
    assert accepted.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.messages.get().text == TEXT
    assert not Attachment.objects.exists()
