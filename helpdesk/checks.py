"""Deployment checks of the project as a whole (registered in TicketsConfig.ready)."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_state(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Production without Redis keeps what every process must share in each one's memory.

    Rate limits, the chat's socket and line limits, the CTI replay guard, knowledge-base
    votes and the dashboard's figures live in the cache; chat lines cross processes
    through the channel layer. Without REDIS_URL both are per process: a second web
    process (or a restart) starts every count at zero and never sees the other's chats.
    """
    if settings.DEBUG or settings.REDIS_URL:
        return []
    return [
        checks.Warning(
            "REDIS_URL is not set: the cache (rate limits, chat limits, the CTI replay "
            "guard) and the chat's channel layer live in this process's memory, so a "
            "second web process neither shares the counts nor sees its chats.",
            hint="Set REDIS_URL=redis://host:6379/0 (docs/operations.md, 'Shared state'). "
            "A single web process on a single machine may silence helpdesk.W001.",
            id="helpdesk.W001",
        )
    ]
