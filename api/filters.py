"""The ticket list's filters, applied with the admin's own selectors (search, SLA)."""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from tickets.models import Queue, Ticket
from tickets.selectors_admin import tickets_filter_sla, tickets_search


def _queue_ids(values: list[str]) -> list[int]:
    ids = [int(v) for v in values if v.isdigit()]
    slugs = [v for v in values if not v.isdigit()]
    if slugs:
        ids += list(Queue.objects.filter(slug__in=slugs).values_list("id", flat=True))
    return ids


def tickets_filter(queryset: QuerySet[Ticket], params: dict, *, user) -> QuerySet[Ticket]:
    if "queue" in params:
        values = [v.strip() for v in params["queue"].split(",") if v.strip()]
        queryset = queryset.filter(queue_id__in=_queue_ids(values))
    for name in ("status", "channel", "kind", "line"):
        if name in params:
            queryset = queryset.filter(**{f"{name}__in": params[name]})
    if "assignee" in params:
        value = params["assignee"].strip()
        if value == "me":
            queryset = queryset.filter(assignee_id=user.pk)
        elif value == "none":
            queryset = queryset.filter(assignee__isnull=True)
        elif value.isdigit():
            queryset = queryset.filter(assignee_id=int(value))
        else:
            raise ValidationError({"assignee": [_("A user id, “me” or “none”.")]})
    ranges = {
        "created_after": Q(created_at__gte=params.get("created_after")),
        "created_before": Q(created_at__lt=params.get("created_before")),
        "updated_after": Q(updated_at__gte=params.get("updated_after")),
        "updated_before": Q(updated_at__lt=params.get("updated_before")),
    }
    for name, condition in ranges.items():
        if params.get(name) is not None:
            queryset = queryset.filter(condition)
    if "sla" in params:
        queryset = tickets_filter_sla(queryset, params["sla"])
    if params.get("q"):
        queryset = tickets_search(queryset, params["q"])
    return queryset
