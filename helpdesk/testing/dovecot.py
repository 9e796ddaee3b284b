"""A throwaway Dovecot (Debian's dovecot-imapd) for the IMAP tests and
`bench/email_ingest.py`: started on a free port with its own maildir, and stopped and
started again on the same ones by the outage test."""

import contextlib
import imaplib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "support", "imap-pass-123"
PORTS = range(8400, 8500)


class DovecotError(RuntimeError):
    """The throwaway server did not start (its output and log in the message)."""


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


def dovecot_config(root, port: int) -> str:
    """A throwaway Dovecot 2.3 config: one passwd-file user, maildir, no SSL."""
    for sub in ("run", "mail", "state"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)  # noqa: S103 - Dovecot's own users must reach the maildir
    # Mail is stored as an unprivileged user (Dovecot refuses uid 0).
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        import pwd

        entry = pwd.getpwnam("dovecot")
        uid, gid = entry.pw_uid, entry.pw_gid
        os.chown(root / "mail", uid, gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
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
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""
    path = root / "dovecot.conf"
    path.write_text(config)
    return str(path)


def dovecot_start(root: Path, port: int) -> subprocess.Popen:
    """Start Dovecot on `root`'s config and maildir; return once it signs a user in."""
    conf = root / "dovecot.conf"
    if not conf.exists():
        dovecot_config(root, port)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: dovecot_crash kills it whole
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None:
                out = process.communicate()[0].decode(errors="replace")
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise DovecotError(f"dovecot did not start: {out}\n{log}") from None
            time.sleep(0.1)
    else:
        process.kill()
        raise DovecotError("dovecot did not open its port")
    server = {"host": "127.0.0.1", "port": port, "root": root}
    while True:  # the auth service comes up a moment after the listener
        try:
            imap_client(server).logout()
            return process
        except imaplib.IMAP4.error:
            if time.monotonic() > deadline:
                process.kill()
                raise DovecotError((root / "dovecot.log").read_text()) from None
            time.sleep(0.1)


def dovecot_crash(process: subprocess.Popen) -> None:
    """The server dies at once, sessions in progress too (a clean stop lets the imap
    processes of open connections finish their commands)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def dovecot_stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def imap_client(server) -> imaplib.IMAP4:
    client = imaplib.IMAP4(server["host"], server["port"])
    client.login(USER, PASSWORD)
    return client


def append(server, raw: bytes, folder: str = "INBOX") -> None:
    client = imap_client(server)
    client.append(folder, None, None, raw)
    client.logout()


def count(server, folder: str = "INBOX") -> int:
    client = imap_client(server)
    status, data = client.select(folder)
    client.logout()
    return int(data[0] or 0) if status == "OK" else -1
