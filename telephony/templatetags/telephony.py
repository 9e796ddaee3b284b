"""`{% screen_pop %}` in the admin's base template: the screen pop's script and panel,
for staff with an extension (nobody else can be rung, so nobody else opens the socket)."""

from django import template
from django.template.loader import render_to_string

from telephony.models import OperatorPhone
from tickets.access import user_works_tickets

register = template.Library()


@register.simple_tag(takes_context=True)
def screen_pop(context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user_works_tickets(user):
        return ""
    if not OperatorPhone.objects.filter(user_id=user.pk).exists():
        return ""
    return render_to_string("admin/telephony/_screen_pop.html", request=request)
