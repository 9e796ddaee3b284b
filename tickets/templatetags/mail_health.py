"""`{% mailboxes_failing as failing %}`: the admin home's line about mail not arriving."""

from django import template

from tickets.models import Mailbox
from tickets.selectors import mailboxes_failing as failing_mailboxes

register = template.Library()


@register.simple_tag(takes_context=True)
def mailboxes_failing(context) -> list[Mailbox]:
    """Every staff member learns that a queue's mail is not arriving; the error text
    (it names the server) only those who may see the mailbox settings."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_staff:
        return []
    show_error = user.has_perm("tickets.view_mailbox")
    mailboxes = list(failing_mailboxes())
    for mailbox in mailboxes:
        mailbox.error_for_user = mailbox.last_error if show_error else ""
    return mailboxes
