"""Tickets, contacts, queues, canned responses in the admin (the operator workspace)."""
