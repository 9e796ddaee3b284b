"""Links between tickets, continuing in a new ticket (regulation 3.11), and merging."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from tickets.events import ticket_event_publish
from tickets.models import Attachment, Message, Ticket, TicketEvent, TicketLink
from tickets.services.creation import ticket_create
from tickets.services.history import event_record
from tickets.services.tickets import ticket_lock
from tickets.workflow import ticket_transition


@transaction.atomic
def ticket_link(*, source: Ticket, target: Ticket, kind: str, actor=None) -> TicketLink:
    """Link two tickets both ways ("continues SP-0041" / "continued in SP-0057")."""
    if source.pk == target.pk:
        raise ValidationError(_("A ticket cannot be linked to itself."), code="self_link")
    kind = TicketLink.Kind(kind)
    link, created = TicketLink.objects.get_or_create(
        source=source, target=target, kind=kind, defaults={"created_by": actor}
    )
    TicketLink.objects.get_or_create(
        source=target, target=source, kind=kind.inverse, defaults={"created_by": actor}
    )
    if created:
        event_record(
            ticket=source,
            kind=TicketEvent.Kind.LINKED,
            actor=actor,
            field=kind.value,
            new_value=target.reference,
        )
        event_record(
            ticket=target,
            kind=TicketEvent.Kind.LINKED,
            actor=actor,
            field=kind.inverse.value,
            new_value=source.reference,
        )
    return link


@transaction.atomic
def ticket_unlink(*, source: Ticket, target: Ticket, kind: str, actor=None) -> None:
    kind = TicketLink.Kind(kind)
    deleted, _rows = TicketLink.objects.filter(source=source, target=target, kind=kind).delete()
    TicketLink.objects.filter(source=target, target=source, kind=kind.inverse).delete()
    if deleted:
        event_record(
            ticket=source,
            kind=TicketEvent.Kind.LINKED,
            actor=actor,
            field=kind.value,
            old_value=target.reference,
            note=_("link removed"),
        )


@transaction.atomic
def ticket_continue_in_new(
    *,
    ticket: Ticket,
    text: str,
    channel: str,
    subject: str = "",
    actor=None,
    auto_reply: bool = True,
    **create_kwargs,
) -> Ticket:
    """A follow-up that cannot continue `ticket` (closed, or a new question) opens a new
    ticket for the same requester, linked both ways (regulation 3.11)."""
    new = ticket_create(
        queue=create_kwargs.pop("queue", ticket.queue),
        requester=create_kwargs.pop("requester", ticket.requester),
        channel=channel,
        subject=subject or ticket.subject,
        text=text,
        kind=create_kwargs.pop("kind", ticket.kind),
        language=create_kwargs.pop("language", ticket.language),
        actor=actor,
        auto_reply=auto_reply,
        **create_kwargs,
    )
    ticket_link(source=new, target=ticket, kind=TicketLink.Kind.CONTINUES, actor=actor)
    return new


@transaction.atomic
def ticket_merge(*, source: Ticket, target: Ticket, actor=None) -> Ticket:
    """Move the conversation of `source` into `target`; `source` is closed as merged.

    Only tickets of the same requester (the same contact) merge. Later mail to the
    source lands on the target (`ticket_resolve_merged`).
    """
    if source.pk == target.pk:
        raise ValidationError(_("A ticket cannot be merged into itself."), code="self_merge")
    # Lock both rows in id order so two opposite merges cannot deadlock.
    first, second = sorted([source.pk, target.pk])
    locked = {first: ticket_lock(first), second: ticket_lock(second)}
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id:
        raise ValidationError(_("This ticket is already merged."), code="already_merged")
    if target.status == Ticket.Status.CLOSED:
        raise ValidationError(_("Cannot merge into a closed ticket."), code="target_closed")
    if source.requester_id != target.requester_id:
        # The target's status page shows every public message and file on it: merging
        # another requester's ticket would show one citizen's words to the other.
        raise ValidationError(
            _(
                "Tickets of different requesters cannot be merged: each requester would "
                "see the other's messages and files on their status page. Link the "
                "tickets as related instead."
            ),
            code="different_requesters",
        )
    moved = Message.objects.filter(ticket=source).update(ticket=target)
    Attachment.objects.filter(ticket=source).update(ticket=target)
    Message.objects.create(
        ticket=target,
        author_kind=Message.Author.SYSTEM,
        author=actor,
        is_internal=True,
        channel=target.channel,
        text=_("Ticket %(source)s (%(subject)s) was merged into this one.")
        % {"source": source.reference, "subject": source.subject},
    )
    if source.status != Ticket.Status.CLOSED:
        ticket_transition(
            ticket=source,
            to=Ticket.Status.CLOSED,
            actor=actor,
            note=_("Merged into %(target)s") % {"target": target.reference},
        )
    source.merged_into = target
    source.save(update_fields=["merged_into", "updated_at"])
    ticket_link(source=source, target=target, kind=TicketLink.Kind.MERGED_INTO, actor=actor)
    event_record(
        ticket=target,
        kind=TicketEvent.Kind.MERGED,
        actor=actor,
        old_value=source.reference,
        new_value=target.reference,
        note=_("%(count)s messages moved") % {"count": moved},
    )
    event_record(
        ticket=source,
        kind=TicketEvent.Kind.MERGED,
        actor=actor,
        old_value=source.reference,
        new_value=target.reference,
    )
    if target.status in (Ticket.Status.RESOLVED,):
        ticket_transition(ticket=target, to=Ticket.Status.OPEN, actor=actor)
    # Last: it holds the audit chain's lock until this transaction commits.
    audit_record(
        "ticket.merged",
        actor=actor,
        obj=target,
        object_label=target.reference,
        details={"source": source.reference, "target": target.reference, "moved": moved},
    )
    ticket_event_publish(ticket=target, event="ticket.merged")
    return target


def ticket_resolve_merged(ticket: Ticket) -> Ticket:
    """Follow "merged into" links to the ticket that lives on (bounded: no cycles)."""
    seen = set()
    while ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = ticket.merged_into
    return ticket
