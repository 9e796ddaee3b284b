"""Operator workspace in the Django admin, split by subdomain."""

from tickets.admin import mail, site, workspace  # noqa: F401
