"""`{% home_counts as home %}`: the admin home tiles' counts for this user."""

from django import template

from tickets.selectors_home import HomeCounts, home_counts_for_staff

register = template.Library()


@register.simple_tag(takes_context=True)
def home_counts(context) -> HomeCounts | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return home_counts_for_staff(user) if user is not None else None
