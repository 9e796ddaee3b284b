"""A paginator that never counts a million rows per page view."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from tickets.selectors_admin import count_estimate

# Below this the planner's guess is replaced by an exact COUNT(*), which is cheap there.
EXACT_COUNT_BELOW = 1_000


class EstimatedCountPaginator(Paginator):
    """On PostgreSQL large result sets use the planner's estimate (pg_class.reltuples for
    the whole table, EXPLAIN otherwise); small ones and SQLite count exactly."""

    @cached_property
    def count(self) -> int:
        estimate = count_estimate(self.object_list)
        if estimate is None or estimate < EXACT_COUNT_BELOW:
            return super().count
        return estimate
