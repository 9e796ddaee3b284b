"""The dashboard's period and filters, parsed from the query string."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from tickets.models import Queue, Ticket

# A custom range longer than this is cut: the per-day charts stay readable and the
# aggregates stay within a bounded index range.
MAX_DAYS = 366


class Period:
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"
    CUSTOM = "custom"

    CHOICES = [
        (TODAY, _("Today")),
        (WEEK, _("7 days")),
        (MONTH, _("30 days")),
        (CUSTOM, _("Custom")),
    ]


@dataclass(frozen=True)
class DashboardFilters:
    """What the supervisor is looking at: a half-open period [start, end) and filters."""

    start: datetime
    end: datetime
    now: datetime
    period: str = Period.WEEK
    queue_id: int | None = None
    channel: str = ""
    line: str = ""
    kind: str = ""
    first_day: date = field(init=False)
    last_day: date = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "first_day", timezone.localtime(self.start).date())
        object.__setattr__(
            self, "last_day", timezone.localtime(self.end - timedelta(microseconds=1)).date()
        )

    @property
    def today_start(self) -> datetime:
        return local_midnight(timezone.localtime(self.now).date())

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]

    @property
    def observed_end(self) -> datetime:
        """The end of the period, or now if the period has not ended yet."""
        return min(self.end, self.now)

    def ticket_q(self, prefix: str = "") -> dict:
        """Filter kwargs for tickets (`prefix` = "ticket__" from related models)."""
        kwargs = {}
        if self.queue_id:
            kwargs[f"{prefix}queue_id"] = self.queue_id
        if self.channel:
            kwargs[f"{prefix}channel"] = self.channel
        if self.line:
            kwargs[f"{prefix}line"] = self.line
        if self.kind:
            kwargs[f"{prefix}kind"] = self.kind
        return kwargs

    def querystring(self) -> str:
        params: dict[str, str] = {"period": self.period}
        if self.period == Period.CUSTOM:
            params["from"] = self.first_day.isoformat()
            params["to"] = self.last_day.isoformat()
        if self.queue_id:
            params["queue"] = str(self.queue_id)
        if self.channel:
            params["channel"] = self.channel
        if self.line:
            params["line"] = self.line
        if self.kind:
            params["kind"] = self.kind
        return urlencode(params)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def period_bounds(
    period: str, *, today: date, date_from: date | None = None, date_to: date | None = None
) -> tuple[date, date]:
    """First and last day (inclusive) of a named period ending today, or of a custom one."""
    if period == Period.TODAY:
        return today, today
    if period == Period.MONTH:
        return today - timedelta(days=29), today
    if period == Period.CUSTOM:
        first = date_from or date_to or today
        last = date_to or first
        if last < first:
            first, last = last, first
        if (last - first).days >= MAX_DAYS:
            first = last - timedelta(days=MAX_DAYS - 1)
        return first, last
    return today - timedelta(days=6), today


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=Period.CHOICES, required=False)
    date_from = forms.DateField(label=_("From"), required=False)
    date_to = forms.DateField(label=_("To"), required=False)
    queue = forms.ModelChoiceField(
        label=_("Queue"), queryset=Queue.objects.all(), required=False, empty_label=_("All")
    )
    channel = forms.ChoiceField(
        label=_("Channel"), choices=[("", _("All"))] + Ticket.Channel.choices, required=False
    )
    line = forms.ChoiceField(
        label=_("Line"), choices=[("", _("All"))] + Ticket.Line.choices, required=False
    )
    kind = forms.ChoiceField(
        label=_("Type"), choices=[("", _("All"))] + Ticket.Kind.choices, required=False
    )

    def __init__(self, data=None, **kwargs):
        # The query string uses `from`/`to`; the form fields cannot be named so.
        if data is not None:
            data = data.copy()
            for short, name in (("from", "date_from"), ("to", "date_to")):
                if short in data and name not in data:
                    data[name] = data[short]
        super().__init__(data, **kwargs)

    def filters(self, *, now: datetime | None = None) -> DashboardFilters:
        """The filters the form describes; invalid values fall back to the defaults."""
        now = now or timezone.now()
        data = self.cleaned_data if self.is_valid() else self._valid_part()
        period = data.get("period") or Period.WEEK
        first, last = period_bounds(
            period,
            today=timezone.localtime(now).date(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        queue = data.get("queue")
        return DashboardFilters(
            start=local_midnight(first),
            end=local_midnight(last + timedelta(days=1)),
            now=now,
            period=period,
            queue_id=queue.pk if queue else None,
            channel=data.get("channel") or "",
            line=data.get("line") or "",
            kind=data.get("kind") or "",
        )

    def _valid_part(self) -> dict:
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
