"""Pure helpers of the workspace: masking, the SLA colour, phone prefixes."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from tickets.models import Queue, Ticket
from tickets.selectors_admin import (
    mask_email,
    mask_name,
    mask_phone,
    phone_search_prefix,
    ticket_sla_state,
)


def test_mask_email_keeps_the_first_letter_and_the_domain():
    assert mask_email("ivan@example.com") == "i***@example.com"


def test_mask_phone_keeps_the_country_and_the_last_four_digits():
    assert mask_phone("+79001234567") == "+7 *** ***-45-67"


def test_mask_name_keeps_the_surname_and_initials():
    assert mask_name("Петрова Мария Ивановна") == "Петрова М. И."


@pytest.mark.parametrize(
    ("typed", "prefix"),
    [
        ("8 (916) 123-45-67", "+79161234567"),
        ("89161", "+79161"),
        ("916 12", "+791612"),
        ("+7 916", "+7916"),
        ("abc", None),
    ],
)
def test_phone_search_prefix(typed, prefix):
    assert phone_search_prefix(typed) == prefix


def _ticket(left: timedelta, total=timedelta(hours=24), **kwargs):
    now = timezone.now()
    return Ticket(
        queue=Queue(),  # no calendar: around the clock
        status=Ticket.Status.NEW,
        created_at=now + left - total,
        first_response_due=now + left,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("left", "state"),
    [
        (timedelta(hours=20), "green"),
        (timedelta(hours=5), "amber"),
        (timedelta(hours=1), "red"),
        (timedelta(hours=-2), "breached"),
    ],
)
def test_sla_colour(left, state):
    assert ticket_sla_state(_ticket(left)).state == state


def test_sla_text_counts_whole_hours_left():
    with_margin = timedelta(hours=5, minutes=1)

    with translation.override("en"):
        assert ticket_sla_state(_ticket(with_margin)).text == "5 h left"
    with translation.override("ru"):
        assert ticket_sla_state(_ticket(with_margin)).text == "осталось 5 ч"


def test_answered_ticket_shows_no_countdown():
    ticket = _ticket(timedelta(hours=3), first_response_at=timezone.now())

    assert ticket_sla_state(ticket).state == "done"
