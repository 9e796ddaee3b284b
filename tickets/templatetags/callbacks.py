"""`{% callbacks_count as cb %}`: the admin home tile's counts of call-backs for this user;
`{{ callback|callback_promise }}`: «Мы перезвоним вам …» for the citizen."""

from django import template

from tickets.access import user_works_tickets
from tickets.selectors_callbacks import CallbackCounts, callback_promise, callbacks_count_for_staff

register = template.Library()


@register.simple_tag(takes_context=True)
def callbacks_count(context) -> CallbackCounts | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user_works_tickets(user):
        return None
    return callbacks_count_for_staff(user)


register.filter("callback_promise", callback_promise)
