"""`python -m helpdesk.serve [daphne options] helpdesk.asgi:application`: the web process.

Daphne as it is, with three differences:

- its access log leaves out query strings (they carry status and chat tokens);
- `--proxy-headers` is refused. Daphne would take the client's address from the
  left-most X-Forwarded-For, which any client writes; the address is worked out from
  TRUSTED_PROXIES instead (`helpdesk/client_address.py`);
- SIGTERM (and SIGINT) stop it gracefully and surely. Daphne alone cancels every request
  and stops the event loop at once; a request still running in the HTTP thread pool then
  could keep the process alive for ever (issue 22, `helpdesk/http_bridge.py`). Here the
  process stops listening, closes chat sockets with 1012 ("service restart": the widget
  and the console reconnect, to another process behind the proxy), lets running HTTP
  requests finish for up to SHUTDOWN_GRACE_SECONDS, then stops the loop. A watchdog
  thread ends the process when the grace period is over, whatever is still running: a
  request cut there loses its transaction as a whole (the database rolls it back), never
  half of it. A second signal stops at once.
"""

import contextlib
import logging
import os
import signal
import sys
import threading
import time

from daphne.cli import CommandLineInterface
from daphne.http_protocol import WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol
from twisted.internet import reactor

from helpdesk.logfilters import path_without_query

logger = logging.getLogger("helpdesk.serve")

DEFAULT_GRACE_SECONDS = 10.0
# The loop is stopped this long before the grace period ends, so that daphne's own
# shutdown (cancelling what is left) and the interpreter's exit fit inside it.
STOP_MARGIN_SECONDS = 1.0
DRAIN_POLL_SECONDS = 0.05
# Exit status when requests were cut at the end of the grace period (0 when all finished).
CUT_EXIT_STATUS = 1
# Close code for chat sockets on shutdown: 1012 "service restart" (RFC 6455 registry).
WEBSOCKET_RESTART_CODE = 1012


def shutdown_grace_seconds() -> float:
    """SHUTDOWN_GRACE_SECONDS from the settings (the application has set Django up)."""
    from django.conf import settings

    try:
        return max(0.0, float(settings.SHUTDOWN_GRACE_SECONDS))
    except Exception:  # noqa: BLE001 - settings unusable: the default is still a bound
        return DEFAULT_GRACE_SECONDS


def start_watchdog(seconds: float, *, exit_status: int = CUT_EXIT_STATUS):
    """End the process after `seconds`, whatever its threads are doing."""

    def _watch():
        time.sleep(seconds)
        logger.warning(
            "shutdown grace period over after %.1f s; exiting with requests still running",
            seconds,
        )
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # exiting anyway
                stream.flush()
        os._exit(exit_status)

    thread = threading.Thread(target=_watch, name="shutdown-watchdog", daemon=True)
    thread.start()
    return thread


REFUSED_OPTIONS = ("--proxy-headers", "--proxy-headers-host", "--proxy-headers-port")


class QuerylessLogServer(Server):
    def log_action(self, protocol, action, details):
        if isinstance(details.get("path"), str):
            details = {**details, "path": path_without_query(details["path"])}
        super().log_action(protocol, action, details)


class GracefulServer(QuerylessLogServer):
    """Daphne that drains HTTP requests on SIGTERM/SIGINT and exits within the grace period."""

    def run(self):
        self.listening_ports = []
        self.stopping = False
        self.drain_deadline = None
        self.requests_cut = 0
        if self.signal_handlers:
            # Ours instead of Twisted's (which stop the reactor at once).
            self.signal_handlers = False
            reactor.callWhenRunning(self._install_signal_handlers)
        super().run()

    def listen_success(self, port):
        self.listening_ports.append(port)
        super().listen_success(port)

    def _install_signal_handlers(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame):
        # Runs in the main thread between two bytecodes of the loop: hand over to the loop.
        reactor.callFromThread(self._begin_shutdown_or_stop, signal.Signals(signum).name)

    def _begin_shutdown_or_stop(self, reason: str) -> None:
        # Twisted's log goes nowhere at daphne's default verbosity: say what failed, and
        # stop at once rather than not at all.
        try:
            self.begin_shutdown(reason)
        except Exception:
            logger.exception("graceful shutdown failed; stopping at once")
            self.stop()

    def begin_shutdown(self, reason: str = "shutdown"):
        if self.stopping:
            logger.warning("%s again: stopping at once", reason)
            self.stop()
            return
        self.stopping = True
        grace = shutdown_grace_seconds()
        start_watchdog(grace)
        self.drain_deadline = time.monotonic() + max(0.0, grace - STOP_MARGIN_SECONDS)
        for port in self.listening_ports:
            port.stopListening()
        sockets = 0
        for protocol in list(self.connections):
            if isinstance(protocol, WebRequest):
                self._close_after_response(protocol)
            elif isinstance(protocol, WebSocketProtocol):
                sockets += 1
                try:
                    protocol.serverClose(code=WEBSOCKET_RESTART_CODE)
                except Exception:  # noqa: BLE001 - a socket half gone is closed by the stop
                    logger.debug("could not close %r", protocol, exc_info=True)
        logger.info(
            "%s: not accepting connections; %d HTTP request(s) running, %d chat socket(s) "
            "closed; grace %.1f s",
            reason,
            len(self.requests_running()),
            sockets,
            grace,
        )
        self._drain()

    def create_application(self, protocol, scope):
        if self.stopping and isinstance(protocol, WebRequest):
            # A request on a kept-alive connection after SIGTERM: still served (it was
            # sent to us), but the connection closes after it, so the drain ends.
            self._close_after_response(protocol)
        return super().create_application(protocol, scope)

    @staticmethod
    def _close_after_response(request: WebRequest) -> None:
        # A finished request has let go of its channel (Twisted deletes the attribute).
        channel = getattr(request, "channel", None)
        if channel is not None and not request.finished:
            request.setHeader(b"connection", b"close")
            channel.persistent = False

    def requests_running(self) -> list:
        """HTTP requests whose application has not finished (answered or not)."""
        running = []
        for protocol, details in list(self.connections.items()):
            instance = details.get("application_instance")
            if isinstance(protocol, WebRequest) and instance is not None and not instance.done():
                running.append(protocol)
        return running

    def _drain(self):
        try:
            running = self.requests_running()
        except Exception:
            logger.exception("cannot tell which requests are running; stopping at once")
            self.stop()
            return
        if not running:
            logger.info("all HTTP requests finished; stopping")
            self.stop()
        elif time.monotonic() >= self.drain_deadline:
            logger.warning("stopping with %d HTTP request(s) still running", len(running))
            self.requests_cut = len(running)
            self.stop()
        else:
            reactor.callLater(DRAIN_POLL_SECONDS, self._drain)


class HelpdeskCommandLineInterface(CommandLineInterface):
    server_class = GracefulServer

    def run(self, args):
        refused = [arg for arg in args if arg.split("=", 1)[0] in REFUSED_OPTIONS]
        if refused:
            self.parser.error(
                f"{refused[0]} trusts X-Forwarded-For from anyone; set TRUSTED_PROXIES instead"
            )
        super().run(args)


def main(argv: list[str] | None = None) -> None:
    cli = HelpdeskCommandLineInterface()
    cli.run(sys.argv[1:] if argv is None else argv)
    if getattr(cli.server, "requests_cut", 0):
        sys.exit(CUT_EXIT_STATUS)


if __name__ == "__main__":
    main()
