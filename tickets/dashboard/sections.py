"""Dashboard figures contributed by other apps without tickets knowing them.

An app registers a section in its `AppConfig.ready()` (chat adds the waiting time of
chats): a function computing its figures for the dashboard's filters — cached with the
others, so language independent and picklable — and one turning them into tiles and
into the JSON endpoint's raw figures. Each section costs the queries its function makes:
the dashboard's query-count tests count them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tickets.dashboard.filters import DashboardFilters


@dataclass(frozen=True)
class DashboardSection:
    key: str
    figures: Callable[[DashboardFilters], dict[str, Any]]
    tiles: Callable[[dict[str, Any]], list[dict[str, str]]]
    metrics: Callable[[dict[str, Any]], dict[str, Any]]
    order: int = 100


_sections: dict[str, DashboardSection] = {}


def dashboard_section_register(section: DashboardSection) -> None:
    """Add (or replace, by key) a section of the dashboard."""
    _sections[section.key] = section


def dashboard_sections() -> list[DashboardSection]:
    return sorted(_sections.values(), key=lambda section: (section.order, section.key))
