"""Refusal or redirection with guidance (seed 002 §3.8): an appeal outside the line's
competence is not just closed — the citizen is told where to turn and what to do there."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from tickets import notify
from tickets.events import ticket_event_publish
from tickets.models import Ticket
from tickets.services.messages import message_add_reply
from tickets.services.tickets import ticket_lock
from tickets.workflow import TransitionNotAllowed, ticket_transition


def redirect_guidance_text(*, where: str, what: str, language: str) -> str:
    """The answer as it stands in the conversation (and on the citizen's status page)."""
    with translation.override(language):
        return _(
            "Your question is outside the competence of our support service.\n"
            "Where to turn: %(where)s\n"
            "What to do: %(what)s"
        ) % {"where": where, "what": what}


@transaction.atomic
def ticket_redirect(
    *, ticket: Ticket, actor: AbstractBaseUser | None, where: str, what: str
) -> Ticket:
    """Resolve an open ticket as «перенаправлено / не по компетенции».

    Both texts are required: where the citizen should turn (organisation, address,
    phone or site) and what to do there. They become the public answer (the first answer
    stops the SLA clock) and go to the citizen in a mail of their own; the ticket is
    resolved with the outcome `redirected`, counted apart on the dashboard. A reply from
    the citizen reopens it as usual.
    """
    where, what = (where or "").strip(), (what or "").strip()
    errors = {}
    if not where:
        errors["where"] = _("Say where the citizen should turn: the organisation and its contacts.")
    if not what:
        errors["what"] = _("Say what the citizen should do there.")
    if errors:
        raise ValidationError(errors, code="required")
    ticket = ticket_lock(ticket)
    if not ticket.is_open:
        # A conflict, not bad input: the API answers 409 (a replay after a lost answer).
        raise TransitionNotAllowed(
            _("Only an open ticket can be redirected."), code="transition_not_allowed"
        )
    message = message_add_reply(
        ticket=ticket,
        author=actor,
        text=redirect_guidance_text(where=where, what=what, language=ticket.language),
        notify_requester=False,
    )
    ticket = ticket_lock(ticket)
    ticket_transition(
        ticket=ticket,
        to=Ticket.Status.RESOLVED,
        actor=actor,
        note=str(Ticket.Outcome.REDIRECTED.label),
        outcome=Ticket.Outcome.REDIRECTED,
    )
    notify.ticket_redirected(ticket=ticket, message=message, where=where, what=what)
    ticket_event_publish(ticket=ticket, event="ticket.status")
    return ticket
