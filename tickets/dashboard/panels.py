"""Extra panels of the supervisor dashboard, contributed by other apps (telephony adds its
phone figures) without tickets importing them — like the ticket page's panels
(`tickets/admin/panels.py`).

An app registers a panel in its `AppConfig.ready()`: a template and a function that
returns the panel's context for the dashboard's filters, or None to leave it out. The
function does its own caching (`DASHBOARD_CACHE_SECONDS`): the page and its auto-refresh
ask every minute.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from tickets.dashboard.filters import DashboardFilters

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    template: str
    context: Callable[[DashboardFilters], dict | None]
    order: int = 100


_panels: dict[str, DashboardPanel] = {}


def dashboard_panel_register(panel: DashboardPanel) -> None:
    """Add (or replace, by key) a panel below the dashboard's charts."""
    _panels[panel.key] = panel


def dashboard_panels_render(filters: DashboardFilters, *, querystring: str) -> list[SafeString]:
    """The registered panels' HTML, in order. A panel that fails is logged and left out:
    the dashboard must work without it."""
    rendered = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        try:
            context = panel.context(filters)
            if context is None:
                continue
            rendered.append(
                render_to_string(panel.template, {**context, "querystring": querystring})
            )
        except Exception:
            logger.exception("dashboard panel %s failed", panel.key)
    return rendered
