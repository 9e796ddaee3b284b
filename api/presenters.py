"""What the API shows of a ticket's people and clock: personal data in full only to
staff allowed to see it (masked as in the admin's lists otherwise), the SLA state as
the admin computes it. Serializers call these; they decide nothing themselves."""

import hashlib

from tickets.access import user_sees_personal_data
from tickets.models import Contact, Ticket
from tickets.selectors_admin import mask_email, mask_name, mask_phone, ticket_sla_state


def requester_view(contact: Contact, *, full: bool) -> dict:
    if full:
        return {
            "id": contact.pk,
            "full_name": contact.full_name,
            "email": contact.email,
            "phone": contact.phone,
            "inn": contact.inn,
            "organisation": contact.organisation,
            "masked": False,
        }
    return {
        "id": contact.pk,
        "full_name": mask_name(contact.full_name),
        "email": mask_email(contact.email),
        "phone": mask_phone(contact.phone),
        "inn": "***" if contact.inn else "",
        "organisation": contact.organisation,
        "masked": True,
    }


def user_view(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}


def sla_view(ticket: Ticket, now=None) -> dict:
    state = ticket_sla_state(ticket, now)
    return {"state": state.state, "text": str(state.text)}


def shows_personal_data(request) -> bool:
    return user_sees_personal_data(request.user)


def ticket_etag(*, ticket: Ticket, last_event_id: int, variant: str) -> str:
    """Changes with anything the detail shows: the ticket row, its requester, its history
    (every message, link and change records an event) and what this caller may see."""
    raw = ":".join(
        [
            str(ticket.pk),
            ticket.updated_at.isoformat(),
            ticket.requester.updated_at.isoformat(),
            str(last_event_id),
            variant,
        ]
    )
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
