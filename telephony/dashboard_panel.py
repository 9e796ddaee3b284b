"""The phone panel of the supervisor dashboard (registered in TelephonyConfig.ready)."""

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _

from telephony.kpis import HOURS, phone_kpis_cached
from tickets.dashboard.panels import DashboardPanel, dashboard_panel_register


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{formats.number_format(value, 1)} %"


def _state(ok: bool | None) -> str:
    return "" if ok is None else ("ok" if ok else "bad")


def _context(filters) -> dict:
    kpis = phone_kpis_cached(start=filters.start, end=filters.end, queue_id=filters.queue_id)
    abandon_target = settings.PHONE_ABANDON_TARGET_PERCENT
    answer_target = settings.PHONE_ANSWER_TARGET_SECONDS
    abandon = kpis.abandon_percent
    speed = kpis.speed_of_answer
    busiest = max(kpis.per_hour) or 1
    return {
        "kpis": kpis,
        "tiles": [
            {
                "key": "phone_inbound",
                "label": _("Inbound calls"),
                "value": str(kpis.inbound),
                "hint": _("%(answered)s answered, %(missed)s missed")
                % {"answered": kpis.answered, "missed": kpis.missed},
                "state": "",
            },
            {
                "key": "phone_answer_rate",
                "label": _("Answer rate"),
                "value": _percent(kpis.answer_percent),
                "hint": _("line availability: answered of the ended calls"),
                "state": "",
            },
            {
                "key": "phone_abandon_rate",
                "label": _("Abandonment rate"),
                "value": _percent(abandon),
                "hint": _("missed of the ended calls · target ≤ %(target)s %%")
                % {"target": abandon_target},
                "state": _state(None if abandon is None else abandon <= abandon_target),
            },
            {
                "key": "phone_speed",
                "label": _("Average speed of answer"),
                "value": "—" if speed is None else _("%(seconds)s s") % {"seconds": speed},
                "hint": _("target ≤ %(target)s s · longest %(longest)s s")
                % {"target": answer_target, "longest": kpis.longest_wait or 0},
                "state": _state(None if speed is None else speed <= answer_target),
            },
        ],
        "hours": [
            {"hour": hour, "count": count, "width": round(100 * count / busiest)}
            for hour, count in zip(HOURS, kpis.per_hour, strict=True)
        ],
        "peak_hour": kpis.peak_hour,
    }


def register() -> None:
    dashboard_panel_register(
        DashboardPanel(
            key="phone", template="dashboard/_panel_phone.html", context=_context, order=10
        )
    )
