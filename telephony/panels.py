"""The call log panel on the ticket page (registered in TelephonyConfig.ready)."""

from telephony.selectors import calls_for_ticket
from tickets.access import user_sees_personal_data
from tickets.admin.panels import TicketPanel, ticket_panel_register
from tickets.selectors_admin import mask_phone


def _context(request, ticket) -> dict | None:
    calls = calls_for_ticket(ticket)
    if not calls:
        return None
    full = user_sees_personal_data(request.user)
    return {
        "calls": [
            {
                "call": call,
                "number": call.citizen_number if full else mask_phone(call.citizen_number),
            }
            for call in calls
        ]
    }


def register() -> None:
    ticket_panel_register(
        TicketPanel(
            key="calls",
            template="admin/telephony/_panel_calls.html",
            context=_context,
            order=20,
        )
    )
