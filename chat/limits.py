"""Flood limits of the citizen chat, kept per chat session across all its sockets.

A limit per socket was no limit: a script opened more sockets with the same chat token
and got a fresh allowance on each. The counters live in the cache: Redis in production,
shared by every ASGI process; the embedded mode's local-memory cache serves its one
process.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

LINE_WINDOW_SECONDS = 10
# A socket holds its slot this long unless it refreshes it; the slots of a process that
# died without closing its sockets free themselves after this.
SLOT_TTL_SECONDS = 90
SLOT_REFRESH_SECONDS = 30


def chat_line_allowed(*, session_id: int, now: float | None = None) -> bool:
    """Count one line of chat `session_id`; False (and not counted) when the session has
    sent CHAT_RATE_LIMIT lines in the last LINE_WINDOW_SECONDS, from whatever sockets.

    A sliding window made of two fixed ones: the previous window's count, weighted by
    how much of it the sliding window still covers, plus the current count. Cache
    increments are atomic (Redis INCR), so concurrent sockets cannot both slip through.
    CHAT_RATE_LIMIT <= 0 disables the limit.
    """
    limit = settings.CHAT_RATE_LIMIT
    if limit <= 0:
        return True
    now = time.time() if now is None else now
    window, offset = divmod(now, LINE_WINDOW_SECONDS)
    current_key = f"chat:lines:{session_id}:{int(window)}"
    previous = cache.get(f"chat:lines:{session_id}:{int(window) - 1}", 0)
    current = _increment(current_key, timeout=2 * LINE_WINDOW_SECONDS + 5)
    if previous * (1 - offset / LINE_WINDOW_SECONDS) + current > limit:
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing to give back
            cache.decr(current_key)
        return False
    return True


def _increment(key: str, *, timeout: int) -> int:
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1


@dataclass(frozen=True)
class SocketSlot:
    """One of a chat session's CHAT_MAX_SOCKETS_PER_SESSION places, held by a socket."""

    key: str | None  # None when no cap is configured
    owner: str  # the socket's channel name


def socket_slot_acquire(*, session_id: int, owner: str) -> SocketSlot | None:
    """Take a free socket slot of chat `session_id` for the socket `owner`; None when
    CHAT_MAX_SOCKETS_PER_SESSION sockets hold one already.

    The holder refreshes its slot every SLOT_REFRESH_SECONDS (socket_slot_refresh) and
    releases it when it closes (socket_slot_release); a slot nobody refreshes expires
    after SLOT_TTL_SECONDS. CHAT_MAX_SOCKETS_PER_SESSION <= 0 disables the cap.
    """
    cap = settings.CHAT_MAX_SOCKETS_PER_SESSION
    if cap <= 0:
        return SocketSlot(key=None, owner=owner)
    for index in range(cap):
        key = f"chat:socket:{session_id}:{index}"
        # add() only writes a missing key, atomically: two sockets never share a slot.
        if cache.add(key, owner, timeout=SLOT_TTL_SECONDS):
            return SocketSlot(key=key, owner=owner)
    return None


def socket_slot_refresh(slot: SocketSlot) -> bool:
    """Keep `slot` for another SLOT_TTL_SECONDS; False when it was lost and is taken."""
    if slot.key is None:
        return True
    if cache.get(slot.key) == slot.owner:
        return cache.touch(slot.key, SLOT_TTL_SECONDS)
    # Expired (the event loop stalled, the cache restarted): take it back if still free.
    return cache.add(slot.key, slot.owner, timeout=SLOT_TTL_SECONDS)


def socket_slot_release(slot: SocketSlot) -> None:
    """Free `slot` for another socket of the session (only if this socket still holds it)."""
    if slot.key is not None and cache.get(slot.key) == slot.owner:
        cache.delete(slot.key)
