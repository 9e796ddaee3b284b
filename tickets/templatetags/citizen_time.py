"""`{{ ticket.first_response_due|citizen_time:ticket.queue }}` → «5 декабря 2026, 00:07 (МСК)»."""

from django import template

from tickets.citizen_time import citizen_datetime, queue_time_zone

register = template.Library()


@register.filter
def citizen_time(value, queue=None) -> str:
    """A time as citizens read it, in the queue's zone (TIME_ZONE without a queue)."""
    return citizen_datetime(value, queue_time_zone(queue)) if value else ""
