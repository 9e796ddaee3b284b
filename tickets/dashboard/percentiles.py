"""Percentiles computed in the database, on PostgreSQL and on SQLite.

PostgreSQL has `percentile_cont`; SQLite has none, so there a window query numbers the
rows of each group in order and returns only the one or two rows around each wanted
position. Both interpolate the same way (linearly between the neighbouring values), so
the answers are identical. Tickets are never loaded into Python: at most two rows per
group and percentile come back.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Hashable, Sequence
from datetime import timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Expression,
    F,
    FloatField,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import Ceil, Floor, RowNumber


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate `percentile_cont(p) WITHIN GROUP (ORDER BY x)`."""

    function = "percentile_cont"
    name = "PercentileCont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, percentile: float, **extra):
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be between 0 and 1")
        super().__init__(expression, percentile=float(percentile), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):  # pragma: no cover
        raise NotImplementedError("use grouped_percentiles() on SQLite")


def has_percentile_cont() -> bool:
    return connection.vendor == "postgresql"


def percentile_aggregates(
    expression: Expression, percentiles: Sequence[float], prefix: str
) -> dict[str, Aggregate]:
    """`aggregate()` kwargs computing the percentiles in the same query (PostgreSQL only)."""
    return {
        f"{prefix}_{int(p * 100)}": PercentileCont(expression, p, output_field=DurationField())
        for p in percentiles
    }


def grouped_percentiles(
    queryset: QuerySet,
    expression: Expression,
    percentiles: Sequence[float],
    group_by: str | None = None,
) -> dict[Hashable, dict[float, timedelta | None]]:
    """Percentiles of a duration `expression` over `queryset`, per value of `group_by`.

    One query on either database. Returns {group: {p: timedelta}}; the key is None
    when `group_by` is None.
    """
    qs = queryset.order_by().annotate(_value=expression).filter(_value__isnull=False)
    if has_percentile_cont():
        aggregates = {
            f"p{i}": PercentileCont(F("_value"), p, output_field=DurationField())
            for i, p in enumerate(percentiles)
        }
        if group_by is None:
            row = qs.aggregate(**aggregates)
            return {None: {p: row[f"p{i}"] for i, p in enumerate(percentiles)}}
        rows = qs.values(group_by).annotate(**aggregates).order_by()
        return {row[group_by]: {p: row[f"p{i}"] for i, p in enumerate(percentiles)} for row in rows}
    return _window_percentiles(qs, percentiles, group_by)


def _window_percentiles(
    qs: QuerySet, percentiles: Sequence[float], group_by: str | None
) -> dict[Hashable, dict[float, timedelta | None]]:
    partition = [F(group_by)] if group_by else []
    qs = qs.annotate(
        _rn=Window(RowNumber(), partition_by=partition, order_by=F("_value").asc()),
        _n=Window(Count("pk"), partition_by=partition),
    )
    wanted = Q()
    for p in percentiles:
        position = (F("_n") - 1) * p
        lower = Floor(position, output_field=FloatField())
        upper = Ceil(position, output_field=FloatField())
        wanted |= Q(_rn__gte=lower + 1, _rn__lte=upper + 1)
    fields = ["_value", "_rn", "_n"] + ([group_by] if group_by else [])
    rows: dict[Hashable, dict[int, timedelta]] = defaultdict(dict)
    sizes: dict[Hashable, int] = {}
    for row in qs.filter(wanted).values(*fields):
        key = row[group_by] if group_by else None
        rows[key][row["_rn"] - 1] = row["_value"]
        sizes[key] = row["_n"]
    result: dict[Hashable, dict[float, timedelta | None]] = {}
    for key, by_position in rows.items():
        result[key] = {}
        for p in percentiles:
            position = (sizes[key] - 1) * p
            low, high = math.floor(position), math.ceil(position)
            a, b = by_position[low], by_position[high]
            result[key][p] = a + (b - a) * (position - low)
    if group_by is None and None not in result:
        result[None] = dict.fromkeys(percentiles)
    return result
