"""What an API caller reaches: the staff access layer (`tickets.access`) for the token's
user, narrowed to the token's queues when it has any. Every ticket the API reads or
changes is fetched through here."""

from django.db.models import QuerySet
from django.http import Http404

from api.models import ApiToken
from tickets.access import (
    access_callback_for_staff,
    access_ticket_for_staff,
    tickets_for_staff,
    user_sees_all_tickets,
)
from tickets.models import CallbackRequest, Queue, Ticket


def request_token(request) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def token_queue_ids(request) -> list[int] | None:
    """The token's queue restriction (ids), or None when it has none (or no token)."""
    token = request_token(request)
    if token is None:
        return None
    if not hasattr(token, "_queue_ids"):
        # `has_queues` is annotated by api_token_authenticate: no query for the usual
        # unrestricted token.
        limited = getattr(token, "has_queues", True)
        token._queue_ids = list(token.queues.values_list("id", flat=True)) if limited else []
    return token._queue_ids or None


def api_has_scope(request, scope: str) -> bool:
    """A session has every scope (its user's permissions decide); a token only its own."""
    token = request_token(request)
    return token is None or token.has_scope(scope)


def api_tickets(request, queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    queryset = Ticket.objects.all() if queryset is None else queryset
    queue_ids = token_queue_ids(request)
    if queue_ids is not None:
        queryset = queryset.filter(queue_id__in=queue_ids)
    return tickets_for_staff(request.user, queryset)


def api_ticket(request, ticket_id, queryset: QuerySet[Ticket] | None = None) -> Ticket:
    """The ticket if this caller may see it; Http404 otherwise (also for another queue
    than the token's)."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    queue_ids = token_queue_ids(request)
    if queue_ids is not None:
        queryset = queryset.filter(queue_id__in=queue_ids)
    return access_ticket_for_staff(request.user, ticket_id, queryset=queryset)


def api_queues(request) -> QuerySet[Queue]:
    queryset = Queue.objects.filter(is_active=True).order_by("position", "name", "id")
    queue_ids = token_queue_ids(request)
    if queue_ids is not None:
        queryset = queryset.filter(pk__in=queue_ids)
    return queryset


def api_worked_queues(request) -> QuerySet[Queue]:
    """The queues the caller works: all for supervisors, else those of the user's
    groups (narrowed to the token's queues)."""
    queryset = api_queues(request)
    if user_sees_all_tickets(request.user):
        return queryset
    return queryset.filter(operators_group__in=request.user.groups.all())


def api_callback(request, callback_id) -> CallbackRequest:
    """A call-back entry of a ticket this caller may see (the staff access layer), in the
    token's queues; Http404 otherwise, the same answer as for an id that does not exist."""
    callback = access_callback_for_staff(request.user, callback_id)
    queue_ids = token_queue_ids(request)
    if queue_ids is not None and callback.ticket.queue_id not in queue_ids:
        raise Http404
    return callback
