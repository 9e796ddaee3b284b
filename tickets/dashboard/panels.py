"""Extra panels of the supervisor dashboard, contributed by other apps (telephony adds its
phone figures) without tickets importing them — like the ticket page's panels
(`tickets/admin/panels.py`).

An app registers a panel in its `AppConfig.ready()`: a template and a function that
returns the panel's context for the dashboard's filters, or None to leave it out. The
function does its own caching (`DASHBOARD_CACHE_SECONDS`): the page and its auto-refresh
ask every minute. Each panel sits in a `data-panel-slot` the refresh fills again with the
panel's new HTML (the JSON endpoint's `panels`). A panel may also give CSV rows (`csv`,
with `csv_label` for the page's download list): `/dashboard/export/<key>.csv`, next to
the dashboard's own exports.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString

from tickets.dashboard.filters import DashboardFilters

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DashboardPanel:
    key: str
    template: str
    context: Callable[[DashboardFilters], dict | None]
    order: int = 100
    # Rows of the panel's CSV (a header first), for the same filters; None: no CSV.
    csv: Callable[[DashboardFilters], Iterable[list]] | None = None
    csv_label: str | Promise = ""
    # Recompute and cache the panel's figures for a standard view, keeping them
    # `seconds` (beat's snapshot refresh calls it); None: the panel computes on demand.
    warm: Callable[[DashboardFilters, int], None] | None = None


_panels: dict[str, DashboardPanel] = {}


def dashboard_panel_register(panel: DashboardPanel) -> None:
    """Add (or replace, by key) a panel below the dashboard's charts."""
    _panels[panel.key] = panel


def _panels_html(filters: DashboardFilters, *, querystring: str) -> list[tuple[str, str]]:
    """(key, HTML) of the registered panels, in order. A panel that fails is logged and
    left out: the dashboard must work without it."""
    rendered: list[tuple[str, str]] = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        try:
            context = panel.context(filters)
            if context is None:
                continue
            html = render_to_string(
                panel.template, {**context, "querystring": querystring, "panel": panel}
            )
        except Exception:
            logger.exception("dashboard panel %s failed", panel.key)
            continue
        rendered.append((panel.key, html))
    return rendered


def dashboard_panels_render(filters: DashboardFilters, *, querystring: str) -> list[SafeString]:
    """The panels for the page, each in the slot the auto-refresh fills again."""
    return [
        format_html('<div data-panel-slot="{}">{}</div>', key, SafeString(html))
        for key, html in _panels_html(filters, querystring=querystring)
    ]


def dashboard_panels_payload(filters: DashboardFilters, *, querystring: str) -> dict[str, str]:
    """The panels' HTML by key, for the JSON endpoint (the page's auto-refresh)."""
    return dict(_panels_html(filters, querystring=querystring))


def dashboard_panel_csv(key: str) -> Callable[[DashboardFilters], Iterable[list]] | None:
    panel = _panels.get(key)
    return panel.csv if panel is not None else None


def dashboard_panel_exports() -> list[tuple[str, str]]:
    """(key, label) of the panels that have a CSV, in order: the page's download list."""
    ordered = sorted(_panels.values(), key=lambda p: (p.order, p.key))
    return [(panel.key, str(panel.csv_label)) for panel in ordered if panel.csv is not None]


def dashboard_panels_warm(filters: DashboardFilters, *, seconds: int) -> None:
    """Let each panel recompute its figures for `filters` (see DashboardPanel.warm); one
    that fails is logged, the others still run."""
    for panel in _panels.values():
        if panel.warm is None:
            continue
        try:
            panel.warm(filters, seconds)
        except Exception:
            logger.exception("dashboard panel %s failed to warm", panel.key)
