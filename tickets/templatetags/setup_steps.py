"""`{% setup_steps as steps %}`: the admin home's "set up first" list, for whoever may
change queues (the people who can act on it)."""

from django import template

from tickets.selectors_setup import SetupStep, setup_steps_missing

register = template.Library()


@register.simple_tag(takes_context=True)
def setup_steps(context) -> list[SetupStep]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("tickets.change_queue"):
        return []
    return setup_steps_missing()
