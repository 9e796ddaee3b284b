"""Extra panels on the ticket page, contributed by other apps without tickets knowing them.

An app registers a panel in its `AppConfig.ready()` (telephony adds the call log): a
template and a function that returns the panel's context for a ticket and a request,
or None to leave the panel out. Each panel costs the queries its function makes, so
keep it to one; the ticket page's query-count test counts them.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicketPanel:
    key: str
    template: str
    context: Callable[[HttpRequest, object], dict | None]
    order: int = 100


_panels: dict[str, TicketPanel] = {}


def ticket_panel_register(panel: TicketPanel) -> None:
    """Add (or replace, by key) a panel of the ticket page's side column."""
    _panels[panel.key] = panel


def ticket_panels() -> list[TicketPanel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.key))


def ticket_panels_render(request: HttpRequest, ticket) -> list[SafeString]:
    """The registered panels' HTML for this ticket, in order. A panel that fails is
    logged and left out: the ticket page must work without it."""
    rendered = []
    for panel in ticket_panels():
        try:
            context = panel.context(request, ticket)
            if context is None:
                continue
            rendered.append(
                render_to_string(
                    panel.template, {**context, "ticket": ticket, "panel_key": panel.key}, request
                )
            )
        except Exception:  # noqa: BLE001 - an extra panel never breaks the ticket page
            logger.exception("Ticket panel %s failed for ticket %s", panel.key, ticket.pk)
    return rendered
