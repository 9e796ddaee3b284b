"""The status transition table, the one function applying it, reopening and 3.11 links."""

import itertools

import pytest

from tests.factories import TicketFactory
from tickets.intake.web import appeal_reply
from tickets.models import Ticket, TicketEvent, TicketLink
from tickets.services import (
    TicketClosedError,
    message_add_from_requester,
    ticket_continue_in_new,
    ticket_link,
)
from tickets.workflow import TRANSITIONS, TransitionNotAllowed, ticket_transition

pytestmark = pytest.mark.django_db

S = Ticket.Status
ALL_PAIRS = list(itertools.product(S.values, S.values))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
FORBIDDEN = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]


def test_the_table_covers_every_status():
    assert set(TRANSITIONS) == set(S.values)


def test_a_closed_ticket_is_final():
    assert TRANSITIONS[S.CLOSED] == frozenset()


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_allowed_transition_changes_status_and_records_history(current, target):
    ticket = TicketFactory(status=current)

    ticket_transition(ticket=ticket, to=target, actor_label="test")

    ticket.refresh_from_db()
    assert ticket.status == target
    event = ticket.events.get(kind=TicketEvent.Kind.STATUS)
    assert (event.old_value, event.new_value) == (current, target)


@pytest.mark.parametrize(("current", "target"), FORBIDDEN)
def test_forbidden_transition_is_refused_and_changes_nothing(current, target):
    ticket = TicketFactory(status=current)

    with pytest.raises(TransitionNotAllowed):
        ticket_transition(ticket=ticket, to=target)

    ticket.refresh_from_db()
    assert ticket.status == current
    assert not ticket.events.exists()


def test_resolving_stamps_resolved_at_and_clears_the_sla_alarms():
    ticket = TicketFactory(status=S.OPEN)
    ticket.sla_breach_at = ticket.first_response_due
    ticket.save(update_fields=["sla_breach_at"])

    ticket_transition(ticket=ticket, to=S.RESOLVED)

    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    assert ticket.sla_breach_at is None


def test_closing_stamps_closed_at_and_resolved_at():
    ticket = TicketFactory(status=S.OPEN)

    ticket_transition(ticket=ticket, to=S.CLOSED)

    ticket.refresh_from_db()
    assert ticket.closed_at is not None
    assert ticket.resolved_at is not None


def test_reopening_counts_and_clears_resolved_at():
    ticket = TicketFactory(status=S.OPEN)
    ticket_transition(ticket=ticket, to=S.RESOLVED)

    ticket_transition(ticket=ticket, to=S.OPEN)

    ticket.refresh_from_db()
    assert ticket.reopened_count == 1
    assert ticket.resolved_at is None


def test_requester_reply_reopens_a_resolved_ticket():
    ticket = TicketFactory(status=S.RESOLVED)

    message_add_from_requester(ticket=ticket, text="Не помогло", channel=Ticket.Channel.WEB)

    ticket.refresh_from_db()
    assert ticket.status == S.OPEN
    assert ticket.reopened_count == 1


def test_requester_reply_takes_a_pending_ticket_back_to_work():
    ticket = TicketFactory(status=S.PENDING)

    message_add_from_requester(ticket=ticket, text="Вот скриншот", channel=Ticket.Channel.WEB)

    ticket.refresh_from_db()
    assert ticket.status == S.OPEN


def test_requester_reply_to_a_closed_ticket_is_refused():
    ticket = TicketFactory(status=S.CLOSED)

    with pytest.raises(TicketClosedError):
        message_add_from_requester(ticket=ticket, text="Ещё вопрос", channel=Ticket.Channel.WEB)


def test_continuing_a_closed_ticket_links_both_ways():
    old = TicketFactory(status=S.CLOSED)

    new = ticket_continue_in_new(ticket=old, text="Снова проблема", channel=Ticket.Channel.WEB)

    assert new.requester == old.requester
    assert TicketLink.objects.get(source=new, target=old).kind == TicketLink.Kind.CONTINUES
    assert TicketLink.objects.get(source=old, target=new).kind == TicketLink.Kind.CONTINUED_BY
    assert old.events.filter(kind=TicketEvent.Kind.LINKED, new_value=new.reference).exists()
    assert new.events.filter(kind=TicketEvent.Kind.LINKED, new_value=old.reference).exists()


def test_reply_from_the_status_page_on_a_closed_ticket_continues_in_a_new_one():
    old = TicketFactory(status=S.CLOSED)

    result = appeal_reply(ticket=old, text="Вопрос снова актуален")

    assert not result.continued
    assert result.ticket.pk != old.pk
    assert TicketLink.objects.filter(
        source=old, target=result.ticket, kind=TicketLink.Kind.CONTINUED_BY
    ).exists()


def test_related_link_is_stored_both_ways():
    first, second = TicketFactory(), TicketFactory()

    ticket_link(source=first, target=second, kind=TicketLink.Kind.RELATED)

    assert TicketLink.objects.filter(source=first, target=second, kind="related").exists()
    assert TicketLink.objects.filter(source=second, target=first, kind="related").exists()
