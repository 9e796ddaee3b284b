"""Django's WSGI handler behind the ASGI server, on a pool of daemon threads.

a2wsgi's `WSGIMiddleware` runs each request in a `concurrent.futures.ThreadPoolExecutor`
and hands every piece of the response back to the event loop, waiting for it without a
limit. When the server stops while a request is still running in the pool, the loop is
gone before the thread sends its answer: the thread waits forever for a future nobody
will complete, and at interpreter exit `concurrent.futures` joins every pool thread, so
the process never ends (issue 22: a web process still alive minutes after SIGTERM, found
after a burst of form posts answered 403 — any request running at SIGTERM does it).

The same wait strands a thread, for the life of the process, when the client goes away
during a response of more than a few chunks: daphne cancels the request's coroutine, the
bounded send queue fills, and nobody drains it.

Here the pool's threads are daemon threads (interpreter exit does not wait for them), and
a thread whose request has been abandoned — coroutine cancelled, loop stopped or closed —
stops waiting and drops the rest of the response. The view itself still runs to its end
(its transaction commits or rolls back as a whole); only the bytes for a client that is no
longer listening are lost. The graceful part of a shutdown is `helpdesk/serve.py`'s: it
stops accepting and lets running requests finish before the loop stops.
"""

import asyncio
import concurrent.futures
import contextvars
import functools
import itertools
import logging
import queue
import threading

from a2wsgi.wsgi import Body, WSGIResponder, build_environ

logger = logging.getLogger(__name__)

# How often a thread waiting on the event loop checks whether anyone is still listening.
# Only the worst case (an abandoned request) waits this long; a live loop answers at once.
POLL_SECONDS = 0.25


class ResponseAbandoned(Exception):
    """The event loop will not take this request's data any more."""


class DaemonThreadPool(concurrent.futures.Executor):
    """A fixed-size pool of daemon threads (started on demand), for `run_in_executor`.

    Unlike `ThreadPoolExecutor`, nothing joins these threads at interpreter exit: the
    server decides how long running requests may take (SHUTDOWN_GRACE_SECONDS), not the
    slowest request.
    """

    _counter = itertools.count()

    def __init__(self, max_workers: int, thread_name_prefix: str = "http"):
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.max_workers = max_workers
        self._prefix = thread_name_prefix
        self._work: queue.SimpleQueue = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shutdown = False
        self._busy = 0

    @property
    def busy(self) -> int:
        """Threads running a task right now."""
        return self._busy

    def submit(self, fn, /, *args, **kwargs) -> concurrent.futures.Future:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new work after shutdown")
            future: concurrent.futures.Future = concurrent.futures.Future()
            self._work.put((future, fn, args, kwargs))
            # An idle thread takes it; otherwise start one more, up to the limit.
            if not self._idle.acquire(blocking=False) and len(self._threads) < self.max_workers:
                thread = threading.Thread(
                    target=self._worker,
                    name=f"{self._prefix}-{next(self._counter)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
            return future

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            del item
            if future.set_running_or_notify_cancel():
                with self._lock:
                    self._busy += 1
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting side
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                finally:
                    with self._lock:
                        self._busy -= 1
                    # Drop references before waiting for the next task.
                    del future, fn, args, kwargs
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                while True:
                    try:
                        item = self._work.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        item[0].cancel()
            for _ in self._threads:
                self._work.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


def _wait_on_loop(responder: "BridgeResponder", coroutine):
    """Run `coroutine` on the responder's loop and wait for it while anyone listens."""
    loop = responder.loop
    if responder.abandoned or loop.is_closed():
        coroutine.close()
        raise ResponseAbandoned
    future = asyncio.run_coroutine_threadsafe(coroutine, loop=loop)
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except concurrent.futures.TimeoutError:
            if responder.abandoned or loop.is_closed() or not loop.is_running():
                future.cancel()
                raise ResponseAbandoned from None


class BridgeBody(Body):
    def __init__(self, responder: "BridgeResponder", receive):
        super().__init__(responder.loop, receive)
        self._responder = responder

    def _receive_more_data(self) -> bytes:
        if not self._has_more:
            return b""
        message = _wait_on_loop(self._responder, self.receive())
        self._has_more = message.get("more_body", False)
        return message.get("body", b"")


class BridgeResponder(WSGIResponder):
    """a2wsgi's responder, except that the thread never waits for a loop nobody runs."""

    def __init__(self, app, executor, send_queue_size: int):
        super().__init__(app, executor, send_queue_size)
        self.abandoned = False

    async def __call__(self, scope, receive, send) -> None:
        body = BridgeBody(self, receive)
        environ = build_environ(scope, body)
        sender = self.loop.create_task(self.sender(send))
        try:
            context = contextvars.copy_context()
            func = functools.partial(context.run, self.wsgi)
            await self.loop.run_in_executor(self.executor, func, environ, self.start_response)
            await self.send_queue.put(None)
            await sender
            if self.exc_info is not None:
                raise self.exc_info[0].with_traceback(self.exc_info[1], self.exc_info[2])
        except asyncio.CancelledError:
            # Daphne gave up on this request (client gone, or the server is stopping):
            # the thread, if it is still in the view, must not wait for us any more.
            self.abandoned = True
            raise
        finally:
            if not sender.done():
                sender.cancel()

    def send(self, message) -> None:
        if self.abandoned:
            return
        try:
            _wait_on_loop(self, self.send_queue.put(message))
        except ResponseAbandoned:
            self.abandoned = True

    def wsgi(self, environ, start_response) -> None:
        iterable = self.app(environ, start_response)
        try:
            for chunk in iterable:
                if self.abandoned:
                    break
                self.send({"type": "http.response.body", "body": chunk, "more_body": True})
            self.send({"type": "http.response.body", "body": b""})
        finally:
            # Closing the response fires request_finished (database connections go back).
            getattr(iterable, "close", lambda: None)()


class WSGIBridge:
    """ASGI application for HTTP that runs a WSGI application on `workers` daemon threads."""

    def __init__(self, app, *, workers: int = 10, send_queue_size: int = 10):
        self.app = app
        self.send_queue_size = send_queue_size
        self.executor = DaemonThreadPool(workers, thread_name_prefix="http")

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            responder = BridgeResponder(self.app, self.executor, self.send_queue_size)
            return await responder(scope, receive, send)
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
                message = await receive()
            if message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
            return
        raise ValueError(f"WSGIBridge serves HTTP only, not {scope['type']!r}")
