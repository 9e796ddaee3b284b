"""Signals the tickets app sends for apps that build on it (it imports none of them).

`history_recorded` is sent when ticket history is written, with `events=[TicketEvent, …]`
(saved rows; `event.ticket_id` set), inside the transaction that wrote them: a receiver
that writes rows of its own (webhook deliveries) commits or rolls back with the change.
Both writers send it: `TicketEvent.save` (one row, every service and the chat line path)
and `TicketEvent.objects.bulk_create` (appeals in a batch, the SLA sweep, retention).

A receiver runs on every history row of the desk, the chat's hot path included: it must
cost next to nothing when it has nothing to do, and must not raise.
"""

from django.dispatch import Signal

history_recorded = Signal()
