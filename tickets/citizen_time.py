"""Times as citizens read them, one format on the web and in mail (issue 20, item 2):
«5 декабря 2026, 00:07 (МСК)», "5 December 2026, 00:07 (MSK)".

A deadline without its time zone is a guess for anyone outside Moscow, so every time a
citizen sees names its zone: the queue's when a queue has one (business calendars),
else TIME_ZONE. Russian zones are said the Russian way, as an offset from Moscow
(«МСК+2» for Yekaterinburg).
"""

from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import pgettext, pgettext_lazy

# Zones of the Russian Federation (tzdata zone1970.tab, country RU).
RUSSIAN_ZONES = frozenset(
    {
        "Europe/Kaliningrad", "Europe/Moscow", "Europe/Simferopol", "Europe/Kirov",
        "Europe/Volgograd", "Europe/Astrakhan", "Europe/Saratov", "Europe/Ulyanovsk",
        "Europe/Samara", "Asia/Yekaterinburg", "Asia/Omsk", "Asia/Novosibirsk",
        "Asia/Barnaul", "Asia/Tomsk", "Asia/Novokuznetsk", "Asia/Krasnoyarsk",
        "Asia/Irkutsk", "Asia/Chita", "Asia/Yakutsk", "Asia/Khandyga", "Asia/Vladivostok",
        "Asia/Ust-Nera", "Asia/Magadan", "Asia/Sakhalin", "Asia/Srednekolymsk",
        "Asia/Kamchatka", "Asia/Anadyr", "W-SU",
    }
)  # fmt: skip
MOSCOW_OFFSET = timedelta(hours=3)
# "5 декабря 2026, 00:07": E is the month in the genitive in Russian, plain in English.
CITIZEN_FORMAT = "j E Y, H:i"


def queue_time_zone(queue=None) -> ZoneInfo:
    """The zone a queue's citizens are told times in: the queue's own when it has one,
    else TIME_ZONE."""
    name = getattr(queue, "time_zone", "") or settings.TIME_ZONE
    return ZoneInfo(str(name))


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}" if rest else f"{sign}{hours}"


def zone_label(local: datetime) -> str:
    """«МСК», «МСК+2», "CET", "UTC+5:30" for an aware local time."""
    zone = local.tzinfo
    offset = local.utcoffset() or timedelta(0)
    moscow = pgettext("time zone", "MSK")
    if isinstance(zone, ZoneInfo) and zone.key in RUSSIAN_ZONES:
        difference = offset - MOSCOW_OFFSET
        return moscow if not difference else moscow + _offset_text(difference)
    abbreviation = local.tzname() or ""
    if abbreviation == "MSK":
        return moscow
    if abbreviation.isalpha() and abbreviation not in ("UTC", "GMT"):
        return abbreviation
    return "UTC" + (_offset_text(offset) if offset else "")


def citizen_datetime(value: datetime | None, tz: tzinfo | str | None = None) -> str:
    """`value` in the citizen's format, in `tz` (a zone, its name, or None for
    TIME_ZONE), in the active language: «5 декабря 2026, 00:07 (МСК)»."""
    if value is None:
        return ""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz or queue_time_zone()
    local = value.astimezone(zone)
    return f"{formats.date_format(local, CITIZEN_FORMAT)} ({zone_label(local)})"


# "by 18:00 on Friday": Russian puts the weekday in the genitive («до 18:00 пятницы»).
WEEKDAYS_AFTER_BY = (
    pgettext_lazy("by … (weekday)", "Monday"),
    pgettext_lazy("by … (weekday)", "Tuesday"),
    pgettext_lazy("by … (weekday)", "Wednesday"),
    pgettext_lazy("by … (weekday)", "Thursday"),
    pgettext_lazy("by … (weekday)", "Friday"),
    pgettext_lazy("by … (weekday)", "Saturday"),
    pgettext_lazy("by … (weekday)", "Sunday"),
)


def citizen_deadline(value: datetime | None, tz: tzinfo | str | None = None) -> str:
    """A deadline as it follows "by" in a sentence, weekday named, year only when it is
    not this year: «18:00 пятницы, 5 декабря (МСК)» ("До" comes from the sentence)."""
    if value is None:
        return ""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz or queue_time_zone()
    local = value.astimezone(zone)
    same_year = local.year == timezone.now().astimezone(zone).year
    return pgettext("deadline after 'by'", "%(time)s on %(weekday)s, %(date)s (%(zone)s)") % {
        "time": formats.date_format(local, "H:i"),
        "weekday": WEEKDAYS_AFTER_BY[local.weekday()],
        "date": formats.date_format(local, "j E" if same_year else "j E Y"),
        "zone": zone_label(local),
    }


def citizen_deadline_in(value: datetime | None, *, queue=None, language: str) -> str:
    """`citizen_deadline` in another language than the active one (mail)."""
    with translation.override(language):
        return citizen_deadline(value, queue_time_zone(queue))


def citizen_datetime_in(value: datetime | None, *, queue=None, language: str) -> str:
    """The same, in another language than the active one (mail in the ticket's language)."""
    with translation.override(language):
        return citizen_datetime(value, queue_time_zone(queue))
