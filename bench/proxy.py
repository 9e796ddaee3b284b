"""nginx in front of local web processes, with the deployment's own configuration.

The benchmarks' `--proxy` runs (issue 23: two nodes behind a load balancer) go through
`deploy/nginx.multinode.conf` itself, only with the upstream lines pointed at the local
ports, the listening address on loopback and the pid, logs and temporary files in a
folder of the run's: the same balancing (least_conn, no sticky sessions), header rewriting
and websocket upgrade as in production. Needs Debian's nginx (`apt-get install
nginx-light`); not collected by pytest.
"""

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "deploy" / "nginx.multinode.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render(ports: list[int], listen: int, folder: Path) -> str:
    """The deployment's configuration, pointed at these ports and this folder."""
    text = CONFIG.read_text()
    upstream = "\n        ".join(
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in ports
    )
    text, count = re.subn(r"(server web-\d+:8000[^;]*;\s*)+", upstream + "\n    ", text)
    if count != 1:
        raise SystemExit(f"{CONFIG}: expected one block of upstream servers, found {count}")
    text = text.replace("listen 80 default_server;", f"listen 127.0.0.1:{listen} default_server;")
    text = re.sub(r"\n\s*listen \[::\]:80 default_server;", "", text)
    text = text.replace("pid /tmp/nginx.pid;", f"pid {folder}/nginx.pid;")
    # One line per request would cost the proxy more than the benchmark measures.
    text = text.replace("access_log /dev/stdout noquery;", "access_log off;")
    text = text.replace("error_log /dev/stderr warn;", f"error_log {folder}/error.log warn;")
    temp_paths = "".join(
        f"    {kind}_temp_path {folder}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return text.replace("http {\n", "http {\n" + temp_paths, 1)


@contextlib.contextmanager
def nginx_in_front(ports: list[int], listen: int | None = None) -> Iterator[str]:
    """Start nginx balancing `ports`; yields its URL and stops it afterwards."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise SystemExit("--proxy needs nginx: apt-get install nginx-light")
    listen = listen or free_port()
    folder = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    folder.chmod(0o755)  # nginx's workers (not root) buffer request bodies in there
    conf = folder / "nginx.conf"
    conf.write_text(render(ports, listen, folder))
    # -e: nginx 1.19.5+ would otherwise open /var/log/nginx/error.log before reading conf.
    command = [binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
    subprocess.run([*command, "-t", "-q"], check=True)
    proc = subprocess.Popen([*command, "-g", "daemon off;"])
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", listen), 1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"nginx did not start; see {folder}/error.log")
            time.sleep(0.1)
        print(f"nginx on :{listen} balancing {', '.join(map(str, ports))}", flush=True)
        yield f"http://127.0.0.1:{listen}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
