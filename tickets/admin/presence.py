"""Who has a ticket open right now: a short-lived cache entry per ticket.

Each open ticket page sends a heartbeat every 20 seconds; an operator counts as viewing
for a minute after the last one. Best effort: a lost update only hides a name briefly.
"""

import time

from django.core.cache import cache

HEARTBEAT_SECONDS = 20
VIEWING_SECONDS = 60


def _key(ticket_id: int) -> str:
    return f"ticket-viewers:{ticket_id}"


def ticket_viewer_touch(*, ticket_id: int, user) -> list[str]:
    """Record that `user` has the ticket open; return the names of the others."""
    now = time.time()
    viewers = {
        uid: (name, seen)
        for uid, (name, seen) in (cache.get(_key(ticket_id)) or {}).items()
        if now - seen < VIEWING_SECONDS
    }
    viewers[user.pk] = (user.get_full_name() or user.get_username(), now)
    cache.set(_key(ticket_id), viewers, VIEWING_SECONDS)
    return sorted(name for uid, (name, _seen) in viewers.items() if uid != user.pk)


def ticket_viewer_leave(*, ticket_id: int, user) -> None:
    viewers = cache.get(_key(ticket_id)) or {}
    if viewers.pop(user.pk, None) is not None:
        cache.set(_key(ticket_id), viewers, VIEWING_SECONDS)
