"""Operator workspace in the Django admin, split by subdomain."""

from tickets.admin import (  # noqa: F401
    calendars,
    callbacks,
    departments,
    mail,
    queues,
    site,
    workspace,
)
