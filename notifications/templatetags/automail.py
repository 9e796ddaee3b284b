"""`{% load automail %}`: mail templates' guards against relaying what a stranger typed."""

from django import template

from notifications import automail

register = template.Library()


@register.filter
def greeting_name(value) -> str:
    """The name if it looks like a person's name, else "" (see automail.greeting_name)."""
    return automail.greeting_name(str(value or ""))
