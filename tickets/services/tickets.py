"""Changing tickets: who works on them, where, their status and fields."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import notify
from tickets.access import user_may_hold_ticket
from tickets.events import ticket_event_publish
from tickets.models import Message, Ticket, TicketEvent
from tickets.models.ticket import new_ticket_token
from tickets.services.history import event_record
from tickets.sla import department_start
from tickets.workflow import ticket_transition


def ticket_lock(ticket: Ticket | int) -> Ticket:
    """Re-read the ticket holding its row lock. Call inside a transaction."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    # of=("self",): lock the ticket only. Without it PostgreSQL locks the joined queue
    # and contact rows too, and every change in a queue waits for that one queue row.
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("queue", "requester")
        .get(pk=pk)
    )


@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee, actor=None, check_assignee: bool = True) -> Ticket:
    """Hand the ticket to `assignee` (None: unassign).

    The assignee must be able to see the ticket's queue or group (`user_may_hold_ticket`):
    an assignment would otherwise widen their access. Only callers whose own rules already
    chose the assignee from the ticket's operators pass `check_assignee=False` (automatic
    assignment, the chat router and console, which also serve queues without a group).
    """
    ticket = ticket_lock(ticket)
    if check_assignee and assignee is not None and not user_may_hold_ticket(assignee, ticket):
        raise ValidationError(
            {"assignee": _("This operator does not work the ticket's queue or group.")},
            code="assignee_no_access",
        )
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee.get_username() if ticket.assignee else ""
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.ASSIGNED,
        actor=actor,
        field="assignee",
        old_value=old,
        new_value=assignee.get_username() if assignee else "",
    )
    return ticket


@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, actor=None, note: str = "") -> Ticket:
    """An operator changes the status; resolving tells the citizen (regulation 4)."""
    ticket = ticket_lock(ticket)
    if ticket.status == status:
        return ticket
    ticket_transition(ticket=ticket, to=status, actor=actor, note=note)
    if status == Ticket.Status.RESOLVED:
        notify.ticket_resolved(ticket=ticket)
    ticket_event_publish(ticket=ticket, event="ticket.status")
    return ticket


@transaction.atomic
def ticket_update_fields(*, ticket: Ticket, actor=None, **changes) -> Ticket:
    """Change plain fields (queue, kind, priority, subject), one history entry each."""
    allowed = {"queue", "kind", "priority", "subject", "assigned_group"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"not changeable here: {sorted(unknown)}")
    ticket = ticket_lock(ticket)
    changed = []
    for field, value in changes.items():
        old = getattr(ticket, field)
        if old == value:
            continue
        setattr(ticket, field, value)
        changed.append(field)
        event_record(
            ticket=ticket,
            kind=TicketEvent.Kind.FIELD,
            actor=actor,
            field=field,
            old_value=str(old or ""),
            new_value=str(value or ""),
        )
    if changed:
        ticket.save(update_fields=[*changed, "updated_at"])
    return ticket


# Seed 002 §3.7: what the first line passes on with an escalated appeal. The form offers
# it as a checklist; the note records what was and what was not passed on.
ESCALATION_CHECKLIST = {
    "essence": gettext_lazy("the essence of the appeal, in the citizen's words"),
    "done": gettext_lazy("what the first line has already checked or done"),
    "contact": gettext_lazy("how to reach the citizen with the answer"),
    "documents": gettext_lazy("documents, screenshots, error messages received"),
    "expected": gettext_lazy("what result the citizen expects"),
}


ESCALATION_NOTE_REQUIRED = gettext_lazy(
    "Write the note for the second line: what the citizen asks and what has been done."
)


def escalation_note_text(*, note: str, checklist: list[str] | None) -> str:
    """The note for the second line with the checklist's state under it (nothing is
    added when the caller has no checklist: the chat, the API without one)."""
    if checklist is None:
        return note
    passed = [str(label) for key, label in ESCALATION_CHECKLIST.items() if key in checklist]
    missing = [str(label) for key, label in ESCALATION_CHECKLIST.items() if key not in checklist]
    lines = [note, ""]
    if passed:
        lines.append(_("Passed on: %(items)s.") % {"items": "; ".join(passed)})
    if missing:
        lines.append(_("Not passed on: %(items)s.") % {"items": "; ".join(missing)})
    return "\n".join(lines)


@transaction.atomic
def ticket_escalate(
    *,
    ticket: Ticket,
    actor=None,
    group=None,
    requester_email: str = "",
    note: str = "",
    checklist: list[str] | None = None,
) -> Ticket:
    """Hand the ticket to the second line or a department (regulation 6).

    A ticket from a phone call needs an e-mail for the later answer. The note for the
    second line is required (seed 002 §3.7: what the department needs to act without
    asking again); `checklist`, the keys of `ESCALATION_CHECKLIST` the operator ticked,
    goes under it. The department's mandatory deadline starts now (seed 003,
    `tickets.sla.department_start`): the department's own hours, else
    DEPARTMENT_DEADLINE_HOURS.
    """
    ticket = ticket_lock(ticket)
    requester = ticket.requester
    if requester_email and not requester.email:
        requester.email = requester_email.strip().lower()
        requester.save(update_fields=["email", "updated_at"])
    errors = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = str(ESCALATION_NOTE_REQUIRED)
    if ticket.channel == Ticket.Channel.PHONE and not requester.email:
        errors["requester_email"] = _(
            "An e-mail address for the answer is required to hand a "
            "phone appeal to the second line."
        )
    if errors:
        raise ValidationError(errors, code="required")
    if ticket.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise ValidationError(_("A resolved or closed ticket cannot be escalated."))
    old_line = ticket.line
    ticket.line = Ticket.Line.SECOND
    ticket.assigned_group = group or ticket.assigned_group
    ticket.assignee = None
    fields = ["line", "assigned_group", "assignee", "updated_at"]
    fields += department_start(ticket, timezone.now())
    ticket.save(update_fields=fields)
    note = escalation_note_text(note=note, checklist=checklist)
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.ESCALATED,
        actor=actor,
        field="line",
        old_value=old_line,
        new_value=ticket.line if group is None else f"{ticket.line}: {group.name}",
        note=note,
    )
    Message.objects.create(
        ticket=ticket,
        author_kind=Message.Author.OPERATOR,
        author=actor,
        is_internal=True,
        channel=ticket.channel,
        text=note,
    )
    ticket_event_publish(ticket=ticket, event="ticket.escalated")
    return ticket


def tickets_close_resolved(*, older_than_days: int, batch: int = 500) -> int:
    """Close tickets resolved more than N days ago (beat runs it hourly)."""
    from datetime import timedelta

    cutoff = timezone.now() - timedelta(days=older_than_days)
    closed = 0
    while True:
        with transaction.atomic():
            rows = list(
                Ticket.objects.select_for_update(skip_locked=True)
                .select_related("queue")
                .filter(status=Ticket.Status.RESOLVED, resolved_at__lt=cutoff)
                .order_by("resolved_at")[:batch]
            )
            for ticket in rows:
                ticket_transition(
                    ticket=ticket,
                    to=Ticket.Status.CLOSED,
                    actor_label="system",
                    note=_("Closed automatically %(days)s days after resolution.")
                    % {"days": older_than_days},
                )
            closed += len(rows)
        if len(rows) < batch:
            return closed


@transaction.atomic
def ticket_status_token_rotate(
    *, ticket: Ticket, actor=None, mail_requester: bool = True
) -> Ticket:
    """Re-issue the citizen's private status link: a new secret token, so the old link
    (leaked, forwarded, mailed to the wrong address) stops working at once. The new
    link is mailed to the requester's e-mail on file when there is one. The history
    records that it happened, never the token.
    """
    ticket = ticket_lock(ticket)
    ticket.token = new_ticket_token()
    ticket.save(update_fields=["token", "updated_at"])
    mailed = notify.ticket_status_link(ticket=ticket, reissued=True) if mail_requester else None
    event_record(
        ticket=ticket,
        kind=TicketEvent.Kind.FIELD,
        actor=actor,
        field="status_link",
        note=_("The status link was re-issued; the old link no longer works.")
        + (" " + _("The new link was mailed to the requester.") if mailed else ""),
    )
    return ticket
