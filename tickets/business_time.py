"""Working-time arithmetic for the SLA clock (issue 19, item 1).

`working_time(queue)` gives the queue's clock: around the clock for a queue without a
calendar, else its business calendar compiled once per process and kept until the
calendar row changes (the cache key is its `updated_at`, which comes along with
`select_related("queue__calendar")`, so list pages do no query per ticket). Days off:
the weekly schedule, Russian public holidays and transferred working days from the
`holidays` library, and the calendar's own extra days off.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

from tickets.models import BusinessCalendar, CalendarDayOff, Queue

# No calendar has a year without a working day (clean() asks for one a week), but a
# runaway loop must still end: ten years of days.
MAX_DAYS = 3660
ZERO = timedelta(0)


class AroundTheClock:
    """A 24/7 queue: working time is wall-clock time."""

    is_business = False

    def add(self, start: datetime, delta: timedelta) -> datetime:
        return start + delta

    def subtract(self, end: datetime, delta: timedelta) -> datetime:
        return end - delta

    def between(self, start: datetime, end: datetime) -> timedelta:
        return end - start


AROUND_THE_CLOCK = AroundTheClock()


class CalendarTime:
    """A business calendar's working hours, in its time zone."""

    is_business = True

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        weekly: list[tuple[time, time] | None],
        days_off: set[date],
        russian_holidays: bool,
    ):
        self.zone = zone
        self.weekly = weekly
        self.days_off = days_off
        self.russian_holidays = russian_holidays
        # A transferred working day (a Saturday worked for a Monday off) keeps Monday's
        # hours, or the first working weekday's when Monday is off.
        self.transferred = next((hours for hours in weekly if hours), None)
        self._days: dict[date, tuple[datetime, datetime] | None] = {}

    @cached_property
    def _public(self) -> holidays.HolidayBase:
        # Years are filled in on first lookup; weekend_workdays along with them.
        return holidays.country_holidays("RU")

    def hours_of(self, day: date) -> tuple[time, time] | None:
        if day in self.days_off:
            return None
        if self.russian_holidays:
            if day in self._public:
                return None
            if day in self._public.weekend_workdays:
                return self.transferred
        return self.weekly[day.weekday()]

    def _interval(self, day: date) -> tuple[datetime, datetime] | None:
        if day not in self._days:
            hours = self.hours_of(day)
            if hours is None:
                self._days[day] = None
            else:
                start = datetime.combine(day, hours[0], tzinfo=self.zone)
                end_day = day + timedelta(days=1) if hours[1] == time(0) else day
                end = datetime.combine(end_day, hours[1], tzinfo=self.zone)
                self._days[day] = (start.astimezone(UTC), end.astimezone(UTC))
        return self._days[day]

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """The moment `delta` of working time after `start`."""
        if delta < ZERO:
            return self.subtract(start, -delta)
        day, left = self._local_day(start), delta
        for _ in range(MAX_DAYS):
            interval = self._interval(day)
            if interval and interval[1] > start:
                begin = max(interval[0], start)
                if left <= interval[1] - begin:
                    return begin + left
                left -= interval[1] - begin
            day += timedelta(days=1)
        raise ValueError("the calendar has no working time")

    def subtract(self, end: datetime, delta: timedelta) -> datetime:
        """The moment `delta` of working time before `end`."""
        if delta < ZERO:
            return self.add(end, -delta)
        day, left = self._local_day(end), delta
        for _ in range(MAX_DAYS):
            interval = self._interval(day)
            if interval and interval[0] < end:
                finish = min(interval[1], end)
                if left <= finish - interval[0]:
                    return finish - left
                left -= finish - interval[0]
            day -= timedelta(days=1)
        raise ValueError("the calendar has no working time")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end` (negative when `end` comes first)."""
        if end < start:
            return -self.between(end, start)
        total, day, last = ZERO, self._local_day(start), self._local_day(end)
        while day <= last:
            interval = self._interval(day)
            if interval:
                overlap = min(interval[1], end) - max(interval[0], start)
                if overlap > ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total


_compiled: dict[int, tuple[datetime, CalendarTime]] = {}


def calendar_time(calendar: BusinessCalendar) -> CalendarTime:
    """The compiled calendar, built once per process per version of the row."""
    cached = _compiled.get(calendar.pk)
    if cached is None or cached[0] != calendar.updated_at:
        days_off = set(
            CalendarDayOff.objects.filter(calendar=calendar).values_list("date", flat=True)
        )
        compiled = CalendarTime(
            zone=ZoneInfo(calendar.time_zone),
            weekly=calendar.weekday_hours(),
            days_off=days_off,
            russian_holidays=calendar.russian_holidays,
        )
        cached = _compiled[calendar.pk] = (calendar.updated_at, compiled)
    return cached[1]


def working_time(queue: Queue) -> AroundTheClock | CalendarTime:
    """The clock the queue's SLA runs on. Select `queue__calendar` in lists."""
    if not queue.calendar_id:
        return AROUND_THE_CLOCK
    return calendar_time(queue.calendar)
