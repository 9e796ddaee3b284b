"""Operator workspace in the Django admin, split by subdomain."""

from tickets.admin import calendars, callbacks, mail, queues, site, workspace  # noqa: F401
