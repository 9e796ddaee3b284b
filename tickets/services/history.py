from tickets.models import Ticket, TicketEvent


def event_record(
    *,
    ticket: Ticket,
    kind: str,
    actor=None,
    actor_label: str = "",
    field: str = "",
    old_value: str = "",
    new_value: str = "",
    note: str = "",
) -> TicketEvent:
    """Append one history entry (regulation 7). Call inside the change's transaction."""
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor else ""),
        field=field,
        old_value=str(old_value)[:255],
        new_value=str(new_value)[:255],
        note=note,
    )
