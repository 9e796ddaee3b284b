"""The admin home's tiles (issue 20, item 9): what an operator starts the day from."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone

from tickets.access import tickets_for_staff, user_sees_all_tickets, user_works_tickets
from tickets.selectors_admin import OPEN_STATUSES, SLA_RED_HOURS


@dataclass(frozen=True)
class HomeCounts:
    mine: int
    unassigned: int
    breached: int
    due_soon: int
    supervises: bool


def home_counts_for_staff(user) -> HomeCounts | None:
    """Open tickets of this user's queues by what needs doing, in one query; None for
    staff who do not work tickets."""
    if not user_works_tickets(user):
        return None
    now = timezone.now()
    owed = Q(first_response_at__isnull=True, first_response_due__isnull=False)
    counts = (
        tickets_for_staff(user)
        .filter(status__in=OPEN_STATUSES)
        .aggregate(
            mine=Count("pk", filter=Q(assignee_id=user.pk)),
            unassigned=Count("pk", filter=Q(assignee__isnull=True)),
            breached=Count("pk", filter=owed & Q(first_response_due__lte=now)),
            due_soon=Count(
                "pk",
                filter=owed
                & Q(first_response_due__gt=now)
                & Q(first_response_due__lte=now + timedelta(hours=SLA_RED_HOURS)),
            ),
        )
    )
    return HomeCounts(**counts, supervises=user_sees_all_tickets(user))
