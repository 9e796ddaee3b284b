"""The Asterisk bridge: read AMI events, apply them as CTI events (`cti_event_record`,
the webhook's service), reconnect with back-off when the manager goes away."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telephony.ami import AmiCallTracker, AmiError, AmiStream
from telephony.events import CtiEvent

logger = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0


async def ami_bridge_run(
    *,
    host: str,
    port: int,
    user: str,
    secret: str,
    inbound_contexts: frozenset[str],
    handle: Callable[[CtiEvent], Awaitable[None]],
    stop: asyncio.Event,
    backoff_first: float = BACKOFF_FIRST_SECONDS,
) -> None:
    """Until `stop` is set. Calls in progress when the connection drops keep their state
    (Linkedids outlive a reconnect), so a hangup read after reconnecting still ends them.
    A refused login is retried too (the manager may be restarting), with the back-off."""
    tracker = AmiCallTracker(inbound_contexts=inbound_contexts)
    delay = backoff_first
    while not stop.is_set():
        stream = None
        try:
            stream = await AmiStream.open(host=host, port=port, user=user, secret=secret)
            logger.info("AMI bridge connected to %s:%s", host, port)
            delay = backoff_first
            while not stop.is_set():
                read = asyncio.ensure_future(stream.read())
                stopped = asyncio.ensure_future(stop.wait())
                done, _pending = await asyncio.wait(
                    {read, stopped}, return_when=asyncio.FIRST_COMPLETED
                )
                if read not in done:
                    read.cancel()
                    break
                stopped.cancel()
                event = tracker.feed(read.result())
                if event is not None:
                    await handle(event)
        except (TimeoutError, OSError, ConnectionError, AmiError) as exc:
            logger.warning("AMI bridge: %s; reconnecting in %.0f s", exc, delay)
        finally:
            if stream is not None:
                stream.close()
        if stop.is_set():
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, BACKOFF_MAX_SECONDS)
