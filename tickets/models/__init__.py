from tickets.models.calendar import BusinessCalendar, CalendarDayOff
from tickets.models.callback import CallbackRequest
from tickets.models.contact import Contact
from tickets.models.department import DepartmentDeadline
from tickets.models.extras import (
    CannedResponse,
    InboundEmail,
    NumberSequence,
    SatisfactionResponse,
)
from tickets.models.history import TicketEvent
from tickets.models.link import TicketLink
from tickets.models.message import Attachment, Message
from tickets.models.queue import DEFAULT_QUEUE_SLUG, Mailbox, Queue
from tickets.models.ticket import Channel, Ticket

__all__ = [
    "Attachment",
    "BusinessCalendar",
    "CalendarDayOff",
    "CallbackRequest",
    "CannedResponse",
    "Channel",
    "Contact",
    "DEFAULT_QUEUE_SLUG",
    "DepartmentDeadline",
    "InboundEmail",
    "Mailbox",
    "Message",
    "NumberSequence",
    "Queue",
    "SatisfactionResponse",
    "Ticket",
    "TicketEvent",
    "TicketLink",
]
