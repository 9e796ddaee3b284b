"""`helpdesk.http_bridge`: Django's WSGI handler behind the ASGI server on daemon threads,
whose threads never wait for an event loop nobody runs any more (issue 22)."""

import asyncio
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from django.conf import settings

from helpdesk.http_bridge import DaemonThreadPool, WSGIBridge

WAIT = 30  # seconds before a test gives up on something that takes milliseconds


def _scope(path="/form/"):
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-type", b"text/plain")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


def _receive_body(body: bytes):
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # nothing more: the client is silent

    return receive


def _wait_until(predicate):
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


async def test_bridge_passes_the_body_in_and_the_response_out():
    def app(environ, start_response):
        body = environ["wsgi.input"].read()
        start_response("201 Created", [("X-Length", str(len(body)))])
        return [b"got ", body]

    sent = []

    async def send(message):
        sent.append(message)

    await WSGIBridge(app, workers=2)(_scope(), _receive_body(b"hello"), send)

    assert sent[0] == {
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"x-length", b"5")],
    }
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"got hello"
    assert sent[-1].get("more_body", False) is False


def test_pool_threads_are_daemon_threads():
    pool = DaemonThreadPool(2)

    thread = pool.submit(threading.current_thread).result(timeout=WAIT)

    assert thread.daemon
    assert thread is not threading.current_thread()


def test_pool_runs_at_most_max_workers_threads_at_once():
    pool = DaemonThreadPool(3)
    release = threading.Event()
    lock = threading.Lock()
    running = []
    peak = []

    def task():
        with lock:
            running.append(1)
            peak.append(len(running))
        release.wait(WAIT)
        with lock:
            running.pop()

    futures = [pool.submit(task) for _ in range(10)]
    _wait_until(lambda: len(running) == 3)
    release.set()
    for future in futures:
        future.result(timeout=WAIT)

    assert max(peak) == 3
    assert pool.busy == 0


def test_pool_hands_a_task_exception_to_the_caller():
    def fails():
        raise ValueError("boom")

    future = DaemonThreadPool(1).submit(fails)

    assert isinstance(future.exception(timeout=WAIT), ValueError)


async def test_thread_of_an_abandoned_request_finishes_instead_of_waiting_for_ever():
    # The client left (daphne cancels the request) while the view was still working on a
    # response of many chunks: a2wsgi's thread then waited for ever on its full send queue.
    entered, release, closed = threading.Event(), threading.Event(), threading.Event()

    class Response:
        def __iter__(self):
            return iter([b"chunk"] * 100)

        def close(self):
            closed.set()

    def app(environ, start_response):
        entered.set()
        release.wait(WAIT)
        start_response("200 OK", [])
        return Response()

    bridge = WSGIBridge(app, workers=1)

    async def send(message):
        await asyncio.Event().wait()  # a client that never reads

    request = asyncio.ensure_future(bridge(_scope(), _receive_body(b""), send))
    await asyncio.get_running_loop().run_in_executor(None, entered.wait, WAIT)
    request.cancel()
    await asyncio.gather(request, return_exceptions=True)
    release.set()

    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, closed.wait, WAIT), "the response was never closed"
    await loop.run_in_executor(None, _wait_until, lambda: bridge.executor.busy == 0)


STUCK_AT_EXIT = textwrap.dedent(
    """
    import asyncio, threading
    from helpdesk.http_bridge import WSGIBridge

    entered, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        entered.set()
        release.wait()
        start_response("403 Forbidden", [])
        return [b"too late"]

    scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": "/appeal/",
             "root_path": "", "query_string": b"", "headers": [], "server": None}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    async def serve_until_sigterm():
        asyncio.ensure_future(WSGIBridge(app, workers=2)(scope, receive, send))
        await asyncio.get_running_loop().run_in_executor(None, entered.wait)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(serve_until_sigterm())
    # The server has stopped its loop; the view now answers, to nobody.
    release.set()
    print("main done", flush=True)
    """
)


def test_interpreter_exit_does_not_wait_for_a_request_answering_a_stopped_loop():
    # What kept web processes alive after SIGTERM: a pool thread waiting on the stopped
    # loop, joined by concurrent.futures' exit hook.
    result = subprocess.run(
        [sys.executable, "-c", STUCK_AT_EXIT],
        cwd=Path(settings.BASE_DIR),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )

    assert result.returncode == 0, result.stderr
    assert "main done" in result.stdout
