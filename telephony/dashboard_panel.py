"""The phone panel of the supervisor dashboard (registered in TelephonyConfig.ready)."""

from collections.abc import Iterable

from django.conf import settings
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.csv_export import Figure
from telephony.kpis import HOURS, phone_kpis_cached, phone_kpis_warm
from tickets.dashboard.filters import DashboardFilters
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


def _figure(value: float | None) -> str:
    return "" if value is None else Figure(formats.number_format(value, 1))


def phone_csv_rows(filters: DashboardFilters) -> Iterable[list]:
    """The panel as CSV: its figures as numbers (Excel keeps them numbers), the targets,
    then inbound calls for each hour of the day (all 24, for staffing sheets)."""
    kpis = phone_kpis_cached(start=filters.start, end=filters.end, queue_id=filters.queue_id)
    abandon_target = settings.PHONE_ABANDON_TARGET_PERCENT
    answer_target = settings.PHONE_ANSWER_TARGET_SECONDS
    yield [_("Figure"), _("Value"), _("Note")]
    yield [_("Inbound calls"), kpis.inbound, ""]
    yield [_("Answered"), kpis.answered, ""]
    yield [_("Missed"), kpis.missed, ""]
    yield [_("Answer rate, %"), _figure(kpis.answer_percent), ""]
    yield [
        _("Abandonment rate, %"),
        _figure(kpis.abandon_percent),
        _("target ≤ %(target)s %%") % {"target": abandon_target},
    ]
    yield [
        _("Average speed of answer, s"),
        _figure(kpis.speed_of_answer),
        _("target ≤ %(target)s s") % {"target": answer_target},
    ]
    yield [_("Longest wait, s"), "" if kpis.longest_wait is None else kpis.longest_wait, ""]
    for hour, count in zip(HOURS, kpis.per_hour, strict=True):
        label = _("Inbound calls %(from)s–%(to)s") % {
            "from": f"{hour:02d}:00",
            "to": f"{hour:02d}:59",
        }
        yield [label, count, _("peak hour") if hour == kpis.peak_hour else ""]


def _warm(filters: DashboardFilters, seconds: int) -> None:
    if filters.queue_id is None:
        phone_kpis_warm(start=filters.start, end=filters.end, seconds=seconds)


def register() -> None:
    dashboard_panel_register(
        DashboardPanel(
            key="phone",
            template="dashboard/_panel_phone.html",
            context=_context,
            order=10,
            csv=phone_csv_rows,
            csv_label=gettext_lazy("Phone line"),
            warm=_warm,
        )
    )
