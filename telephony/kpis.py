"""Phone figures for the supervisor dashboard (seed 003): answer rate, abandonment rate,
speed of answer, load per hour of the day. Inbound calls only; computed from the call log
in two queries and cached like the dashboard's own figures."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, Max, Q
from django.db.models.functions import ExtractHour
from django.utils import timezone

from telephony.models import CallRecord
from tickets.models import Queue

HOURS = range(24)


@dataclass(frozen=True)
class PhoneKpis:
    inbound: int  # inbound calls that rang in the period
    answered: int
    missed: int  # ended without an answer: the caller gave up, busy, no answer
    answer_percent: float | None  # answered of the ended calls
    abandon_percent: float | None  # missed of the ended calls ("доля отказов")
    speed_of_answer: float | None  # average seconds from ring to answer
    longest_wait: int | None  # seconds
    per_hour: tuple[int, ...]  # inbound calls by local hour of ringing, 0–23

    @property
    def peak_hour(self) -> int | None:
        return None if not any(self.per_hour) else self.per_hour.index(max(self.per_hour))


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(100 * part / whole, 1)


def phone_kpis(*, start: datetime, end: datetime, queue: Queue | None = None) -> PhoneKpis:
    """Inbound calls that rang in [start, end); with `queue`, those the platform named by
    its slug (`CallRecord.queue_label`)."""
    calls = CallRecord.objects.filter(
        direction=CallRecord.Direction.IN, ring_at__gte=start, ring_at__lt=end
    )
    if queue is not None:
        calls = calls.filter(queue_label=queue.slug)
    totals = calls.aggregate(
        inbound=Count("id"),
        answered=Count("id", filter=Q(answer_at__isnull=False)),
        missed=Count("id", filter=Q(missed=True)),
        speed=Avg("wait_seconds", filter=Q(answer_at__isnull=False)),
        longest=Max("wait_seconds", filter=Q(answer_at__isnull=False)),
    )
    per_hour = dict.fromkeys(HOURS, 0)
    for row in (
        calls.annotate(hour=ExtractHour("ring_at", tzinfo=timezone.get_current_timezone()))
        .values("hour")
        .annotate(n=Count("id"))
    ):
        per_hour[row["hour"]] = row["n"]
    ended = totals["answered"] + totals["missed"]
    speed = totals["speed"]
    return PhoneKpis(
        inbound=totals["inbound"],
        answered=totals["answered"],
        missed=totals["missed"],
        answer_percent=_percent(totals["answered"], ended),
        abandon_percent=_percent(totals["missed"], ended),
        speed_of_answer=None if speed is None else round(float(speed), 1),
        longest_wait=totals["longest"],
        per_hour=tuple(per_hour[hour] for hour in HOURS),
    )


def phone_kpis_cached(*, start: datetime, end: datetime, queue_id: int | None) -> PhoneKpis:
    """`phone_kpis`, at most `DASHBOARD_CACHE_SECONDS` old (the dashboard's rule)."""
    queue = Queue.objects.filter(pk=queue_id).first() if queue_id else None
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return phone_kpis(start=start, end=end, queue=queue)
    kpis = cache.get(_cache_key(start, end, queue_id))
    if kpis is None:
        kpis = phone_kpis(start=start, end=end, queue=queue)
        cache.set(_cache_key(start, end, queue_id), kpis, seconds)
    return kpis


def phone_kpis_warm(*, start: datetime, end: datetime, seconds: int) -> None:
    """Recompute the figures of a standard view (no queue) and keep them `seconds`: beat
    runs this every minute with the dashboard's own snapshots (tickets/dashboard/
    snapshots.py), so the page and its auto-refresh never wait for them."""
    if settings.DASHBOARD_CACHE_SECONDS > 0:
        cache.set(_cache_key(start, end, None), phone_kpis(start=start, end=end), seconds)


def _cache_key(start: datetime, end: datetime, queue_id: int | None) -> str:
    return f"dashboard:phone:v1:{start.isoformat()}:{end.isoformat()}:{queue_id or ''}"
