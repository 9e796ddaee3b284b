"""`{% screen_pop %}` in the admin's base template: the screen pop's script and panel,
for staff with an extension (nobody else can be rung, so nobody else opens the socket)."""

from django import template
from django.template.loader import render_to_string

from telephony.click_to_call import click_to_call_enabled, operator_extension
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


@register.inclusion_tag("admin/telephony/_call_button.html", takes_context=True)
def click_to_call(context, callback) -> dict:
    """ "Call from my phone" for an open call-back, when click-to-call is configured and
    the operator has an extension (one query per page: the extension is read once)."""
    request = context.get("request")
    if "_click_to_call_extension" not in context.render_context:
        user = getattr(request, "user", None)
        context.render_context["_click_to_call_extension"] = (
            operator_extension(user) if user is not None and click_to_call_enabled() else ""
        )
    shown = bool(context.render_context["_click_to_call_extension"]) and callback.is_open
    return {"shown": shown, "callback": callback, "csrf_token": context.get("csrf_token")}
