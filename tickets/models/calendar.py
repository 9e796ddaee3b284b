"""Business calendars: when a queue's SLA clock runs (issue 19, item 1).

A queue without a calendar works around the clock. A calendar says the working hours
per weekday in its time zone; Russian public holidays and the transferred working days
come from the `holidays` library (see `tickets.business_time`), extra days off are
added here by an administrator.
"""

import re
from datetime import time
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})\s*$")
WEEKDAY_FIELDS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_hours(text: str) -> tuple[time, time] | None:
    """«09:00-18:00» → (09:00, 18:00); empty → None (a day off). Raises ValueError."""
    if not (text or "").strip():
        return None
    match = _HOURS.match(text)
    if not match:
        raise ValueError(text)
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    end = time(0) if (h2, m2) == (24, 0) else time(h2, m2)
    start = time(h1, m1)
    if end != time(0) and end <= start:
        raise ValueError(text)
    return start, end


def validate_hours(text: str) -> None:
    try:
        parse_hours(text)
    except ValueError:
        raise ValidationError(
            _("Write the working hours as 09:00-18:00, or leave empty for a day off."),
            code="invalid_hours",
        ) from None


def validate_time_zone(name: str) -> None:
    if name not in available_timezones():
        raise ValidationError(
            _("Unknown time zone “%(name)s” (use a tz database name: Europe/Moscow)."),
            params={"name": name},
            code="invalid_time_zone",
        )


def _hours_field(label: str, default: str) -> models.CharField:
    return models.CharField(
        label, max_length=20, blank=True, default=default, validators=[validate_hours]
    )


class BusinessCalendar(models.Model):
    """Working hours of a queue; holidays from the library, extra days off by hand."""

    name = models.CharField(_("name"), max_length=200)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    russian_holidays = models.BooleanField(
        _("Russian public holidays and transferred working days"),
        default=True,
        help_text=_(
            "Days off and working Saturdays of the Russian production calendar, from the "
            "maintained `holidays` library. A transferred working day keeps Monday's hours."
        ),
    )
    monday = _hours_field(_("Monday"), "09:00-18:00")
    tuesday = _hours_field(_("Tuesday"), "09:00-18:00")
    wednesday = _hours_field(_("Wednesday"), "09:00-18:00")
    thursday = _hours_field(_("Thursday"), "09:00-18:00")
    friday = _hours_field(_("Friday"), "09:00-18:00")
    saturday = _hours_field(_("Saturday"), "")
    sunday = _hours_field(_("Sunday"), "")
    # Bumped on every save (and by saving a day off): the per-process cache of compiled
    # calendars is keyed by it, so an edit reaches every worker without a query per use.
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not any((getattr(self, name) or "").strip() for name in WEEKDAY_FIELDS):
            raise ValidationError(_("A calendar needs at least one working day a week."))

    def weekday_hours(self) -> list[tuple[time, time] | None]:
        return [parse_hours(getattr(self, name)) for name in WEEKDAY_FIELDS]


class CalendarDayOff(models.Model):
    """A day off the library does not know: a local holiday, a closed office."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        verbose_name=_("calendar"),
        on_delete=models.CASCADE,
        related_name="days_off",
    )
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("extra day off")
        verbose_name_plural = _("extra days off")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_off_unique")
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.note}".strip()
