"""What the public footer promises (issue 20, item 7): when operators are on the line
and how soon the first answer comes, per queue.

SUPPORT_HOURS is `<days> <from>-<to>`, days as ISO weekdays (`1-5` Monday to Friday,
`1-5,7`), e.g. `1-5 09:00-18:00`; empty means round the clock. Business calendars per
queue (issue 19) can replace it; until then the line has one set of hours.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext, ngettext, npgettext, pgettext

from tickets.citizen_time import queue_time_zone, zone_label
from tickets.models import Queue

_SPEC = re.compile(
    r"^\s*([1-7](?:-[1-7])?(?:,[1-7](?:-[1-7])?)*)\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})\s*$"
)


def _weekday_names() -> list[str]:
    return [
        pgettext("weekday", "Mon"),
        pgettext("weekday", "Tue"),
        pgettext("weekday", "Wed"),
        pgettext("weekday", "Thu"),
        pgettext("weekday", "Fri"),
        pgettext("weekday", "Sat"),
        pgettext("weekday", "Sun"),
    ]


def _days_text(days: str) -> str:
    names = _weekday_names()
    parts = []
    for part in days.split(","):
        first, _, last = part.partition("-")
        if last and last != first:
            parts.append(f"{names[int(first) - 1]}–{names[int(last) - 1]}")
        else:
            parts.append(names[int(first) - 1])
    return ", ".join(parts)


def _clock(text: str) -> str:
    hours, minutes = text.split(":")
    return f"{int(hours)}:{minutes}"


def working_hours_text(spec: str | None = None) -> str:
    """«пн–пт, 9:00–18:00 (МСК)», or «круглосуточно» for an empty SUPPORT_HOURS.

    A spec that does not parse is shown as written rather than hidden: the operator who
    set it sees the mistake on the site."""
    spec = settings.SUPPORT_HOURS if spec is None else spec
    if not spec.strip():
        return gettext("round the clock")
    match = _SPEC.match(spec)
    if not match:
        return spec.strip()
    days, start, end = match.groups()
    zone = zone_label(datetime.now(queue_time_zone()))
    return f"{_days_text(days)}, {_clock(start)}–{_clock(end)} ({zone})"


@dataclass(frozen=True)
class QueueDeadline:
    name: str
    hours: int


def hours_text(hours: int) -> str:
    """«24 часа», «1 час», «5 часов»."""
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def within_hours_text(hours: int) -> str:
    """«в течение 24 часов», «в течение 1 часа»: Russian wants the genitive here."""
    return npgettext("within", "%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def answer_deadlines() -> list[QueueDeadline]:
    """The first-answer target of every active queue, in the order the form lists them."""
    return [
        QueueDeadline(name=name, hours=hours)
        for name, hours in Queue.objects.filter(is_active=True).values_list(
            "name", "sla_first_response_hours"
        )
    ]


def answer_deadline_text() -> str:
    """«Первый ответ на обращение — в течение 24 часов», or per queue when their
    targets differ («Срок первого ответа: Сайт Навигатора — 24 часа; …»)."""
    deadlines = answer_deadlines()
    distinct = {d.hours for d in deadlines} or {settings.SLA_FIRST_RESPONSE_HOURS}
    if len(distinct) == 1:
        return gettext("The first answer to an appeal comes within %(hours)s.") % {
            "hours": within_hours_text(distinct.pop())
        }
    per_queue = "; ".join(f"{d.name} — {hours_text(d.hours)}" for d in deadlines)
    return gettext("First answer due: %(list)s.") % {"list": per_queue}
