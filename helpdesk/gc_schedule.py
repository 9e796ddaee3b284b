"""Keep CPython's full garbage collections out of the chat's latency.

A web process holds ~120k objects from start-up (Django, the URLconf, the translations)
and a few hundred per open chat socket. CPython collects all of them in one stop-the-world
pass whenever enough objects have survived since the last one; in a daphne serving 250
sockets that pass took 70-220 ms, several times a minute, and every socket, the event
loop and every pool thread stood still for as long (docs/bench-history.md, "Session 3").

`schedule_full_collections` is called once the application is built:
1. collect, then `gc.freeze()` what is left: the start-up objects live as long as the
   process, so no later collection walks them again;
2. switch off the automatic full (generation 2) collections; generations 0 and 1 still
   run as usual and take well under a millisecond;
3. run the full collection from a daemon thread every `interval` seconds instead, so
   reference cycles that reached generation 2 are still freed, once per interval
   rather than whenever the counters say so.
"""

import gc
import logging
import threading
import time

logger = logging.getLogger(__name__)

# CPython runs a full collection when generation 2's counter passes this; its counter
# counts generation-1 collections, so this is "never" for any process lifetime.
NEVER = 2**31 - 1

_started = False
_lock = threading.Lock()


def schedule_full_collections(interval: float) -> bool:
    """Freeze the start-up heap and move full collections to a timer; once per process.

    `interval` <= 0 leaves CPython's defaults alone. Returns whether the schedule is on.
    """
    global _started
    if interval <= 0:
        return False
    with _lock:
        if _started:
            return True
        gc.collect()
        gc.freeze()
        young, middle, _ = gc.get_threshold()
        gc.set_threshold(young, middle, NEVER)
        thread = threading.Thread(
            target=_collect_every, args=(interval,), name="gc-full-collection", daemon=True
        )
        thread.start()
        _started = True
    logger.info(
        "Froze %d start-up objects; full collections every %g s", gc.get_freeze_count(), interval
    )
    return True


def _collect_every(interval: float) -> None:
    while True:
        time.sleep(interval)
        started = time.perf_counter()
        freed = gc.collect()
        logger.debug(
            "Full collection: %d objects freed in %.1f ms",
            freed,
            (time.perf_counter() - started) * 1000,
        )
