"""Writes on tickets. Every change goes through these functions and records history."""

from tickets.services.attachments import (
    attachment_build,
    attachment_validate,
    attachments_add,
    attachments_validate,
)
from tickets.services.callbacks import (
    CallbackAttemptConflict,
    CallbackWish,
    callback_for_missed_call,
    callback_record_attempt,
    callback_record_outcome,
    callback_request,
)
from tickets.services.contacts import contact_find, contact_get_or_create
from tickets.services.creation import TicketDraft, ticket_create, tickets_create_many
from tickets.services.history import event_record
from tickets.services.links import (
    ticket_continue_in_new,
    ticket_link,
    ticket_merge,
    ticket_resolve_merged,
    ticket_unlink,
)
from tickets.services.messages import (
    TicketClosedError,
    message_add_from_requester,
    message_add_reply,
)
from tickets.services.redirection import ticket_redirect
from tickets.services.retention import (
    ANONYMISED_NAME,
    contact_anonymise,
    contacts_anonymise_expired,
    retention_anonymiser_register,
)
from tickets.services.tickets import (
    ticket_assign,
    ticket_escalate,
    ticket_lock,
    ticket_set_status,
    ticket_status_token_rotate,
    ticket_update_fields,
    tickets_close_resolved,
)

__all__ = [
    "ANONYMISED_NAME",
    "TicketClosedError",
    "TicketDraft",
    "CallbackAttemptConflict",
    "CallbackWish",
    "callback_for_missed_call",
    "callback_record_attempt",
    "callback_record_outcome",
    "callback_request",
    "attachment_build",
    "attachment_validate",
    "contact_anonymise",
    "contacts_anonymise_expired",
    "attachments_add",
    "attachments_validate",
    "contact_find",
    "contact_get_or_create",
    "event_record",
    "message_add_from_requester",
    "message_add_reply",
    "ticket_assign",
    "ticket_continue_in_new",
    "ticket_create",
    "retention_anonymiser_register",
    "ticket_escalate",
    "ticket_link",
    "ticket_lock",
    "ticket_merge",
    "ticket_redirect",
    "ticket_resolve_merged",
    "ticket_set_status",
    "ticket_status_token_rotate",
    "ticket_unlink",
    "ticket_update_fields",
    "tickets_close_resolved",
    "tickets_create_many",
]
