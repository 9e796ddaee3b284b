"""`{{ ticket.first_response_due|citizen_time:ticket.queue }}` → «5 декабря 2026, 00:07 (МСК)»."""

from django import template

from tickets.citizen_time import citizen_datetime, citizen_deadline, queue_time_zone

register = template.Library()


@register.filter
def citizen_time(value, queue=None) -> str:
    """A time as citizens read it, in the queue's zone (TIME_ZONE without a queue)."""
    return citizen_datetime(value, queue_time_zone(queue)) if value else ""


@register.filter
def citizen_deadline_time(value, queue=None) -> str:
    """A deadline after "by": «18:00 пятницы, 5 декабря (МСК)», in the queue's zone."""
    return citizen_deadline(value, queue_time_zone(queue)) if value else ""
