"""`{% chat_waiting as chat %}`: the admin home's chat console tile (issue 20, items 9-10)."""

from django import template

from chat.access import console_rights
from chat.selectors import waiting_count

register = template.Library()


@register.simple_tag(takes_context=True)
def chat_waiting(context) -> dict | None:
    """Chats waiting in this operator's queues, or None: they may not use the console."""
    request = context.get("request")
    rights = console_rights(getattr(request, "user", None))
    if rights is None:
        return None
    return {"waiting": waiting_count(rights.queue_ids)}
