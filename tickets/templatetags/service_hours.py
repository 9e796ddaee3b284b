"""`{% service_footer %}`: the public footer's working hours and answer deadlines."""

from django import template

from tickets.service_hours import answer_deadline_text, working_hours_text

register = template.Library()


@register.inclusion_tag("tickets/public/_service_footer.html")
def service_footer() -> dict:
    return {"working_hours": working_hours_text(), "answer_deadline": answer_deadline_text()}
