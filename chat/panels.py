"""The citizens' ratings of a ticket's chats on the ticket page (registered in
ChatConfig.ready; tickets renders the panel without importing chat)."""

from chat.models import ChatSession
from chat.selectors import user_display
from tickets.admin.panels import TicketPanel, ticket_panel_register


def _context(request, ticket) -> dict | None:
    # The ticket page already checked that this staff member may see the ticket.
    rated = list(
        ChatSession.objects.filter(ticket=ticket, rating__isnull=False)
        .select_related("operator")
        .order_by("rated_at", "pk")
    )
    if not rated:
        return None
    return {
        "ratings": [
            {
                "session": session,
                "stars": "★" * (session.rating or 0) + "☆" * (5 - (session.rating or 0)),
                "operator": user_display(session.operator),
            }
            for session in rated
        ]
    }


def register() -> None:
    ticket_panel_register(
        TicketPanel(
            key="chat_rating",
            template="admin/chat/_panel_rating.html",
            context=_context,
            order=30,
        )
    )
