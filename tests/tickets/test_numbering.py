"""Ticket numbers: formatting, what people type, bulk reservation, concurrency."""

import threading

import pytest
from django.db import connection

from tickets.models import Ticket
from tickets.numbering import (
    format_ticket_number,
    parse_ticket_number,
    subject_ticket_numbers,
    ticket_number_next,
    ticket_numbers_reserve,
)
from tickets.services import ticket_create


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("SP-0042", 42),
        ("sp42", 42),
        ("SP 42", 42),
        ("42", 42),
        ("[SP-0042]", 42),
        ("  sp-0042  ", 42),
        ("Sp-42", 42),
        ("#42", 42),
        ("№ 42", 42),
        ("SP-10000", 10000),
        ("SP–0042", 42),
        ("SP—0042", 42),
        ("SP−0042", 42),
        ("sp-0042.", 42),
        ("«SP-0042»", 42),
    ],
)
def test_parse_ticket_number_accepts_what_people_type(typed, number):
    assert parse_ticket_number(typed) == number


@pytest.mark.parametrize(
    "typed",
    [
        "СП-2001",  # Cyrillic, as the number is said aloud
        "сп 2001",
        "Сп2001",
        "SР-2001",  # Cyrillic Р among Latin letters
        "СР-2001",  # both Cyrillic, looking like Latin
        "ЫЗ-2001",  # keys S and P with the Russian layout on
        "ыз2001",
        "ＳＰ－２００１",  # full-width, as some phone keyboards give
        "ｓｐ２００１",
        "SP\u00a02001",  # no-break space
        "СП\u200b-2001",  # zero-width space pasted along
        "№ 2001",
        "SP_2001",
    ],
)
def test_parse_ticket_number_reads_cyrillic_look_alikes_layouts_and_full_width(typed):
    assert parse_ticket_number(typed) == 2001


@pytest.mark.parametrize(
    "typed",
    [
        "AB-42",
        "XSP-42",
        "",
        None,
        "SP-",
        "сорок два",
        "SP-0",
        "4 2",
        "СПБ-42",  # one letter too many
        "ЦП-42",  # not a spelling of S
        "S-42",  # one letter short
        "SP-42-43",
        "SP-４２x",
    ],
)
def test_parse_ticket_number_rejects_foreign_prefixes_and_garbage(typed):
    assert parse_ticket_number(typed) is None


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1, "SP-0001"),
        (42, "SP-0042"),
        (9999, "SP-9999"),
        (10000, "SP-10000"),
        (123456, "SP-123456"),
    ],
)
def test_format_ticket_number_pads_to_four_digits_and_grows_past_them(number, text):
    assert format_ticket_number(number) == text


def test_format_and_parse_follow_the_configured_prefix(settings):
    settings.TICKET_PREFIX = "HD"

    assert format_ticket_number(7) == "HD-0007"
    assert parse_ticket_number("hd7") == 7
    assert parse_ticket_number("SP-0007") is None


@pytest.mark.parametrize("typed", ["HD-7", "НД-7", "ХД-7", "РВ-7", "ＨＤ７"])
def test_look_alike_spellings_are_derived_from_the_configured_prefix(settings, typed):
    # Н looks like H, Х and Д are how H and D are said, Р and В sit on the H and D keys.
    settings.TICKET_PREFIX = "HD"

    assert parse_ticket_number(typed) == 7


def test_a_cyrillic_prefix_accepts_its_latin_look_alikes_and_keys(settings):
    settings.TICKET_PREFIX = "ОБ"

    assert parse_ticket_number("ОБ-7") == 7
    assert parse_ticket_number("ob-7") == 7  # О looks like O, Б is said B
    assert parse_ticket_number("J,-7") is None  # punctuation is never a letter
    assert parse_ticket_number("SP-7") is None


@pytest.mark.parametrize(
    ("subject", "numbers"),
    [
        ("Re: [SP-0042] Вход в личный кабинет", [42]),
        ("Re:[SP-0042]Вход", [42]),
        ("Re: Re: [SP-0042] [sp-0042]", [42]),
        ("Ответ: [СП-0042] Вход", [42]),
        ("Fwd: (ЫЗ-0042)", [42]),
        ("По обращению СП-2001 и [SP-0042]", [42, 2001]),
        ("Обращение sp 2001", [2001]),
        ("Windows XP SP2 не запускается", []),
        ("[42] Дом 42, квартира 2001", []),
        ("Договор ASP-1234", []),
        ("[AB-0042] чужая система", []),
        ("", []),
        (None, []),
    ],
)
def test_subject_ticket_numbers_finds_tags_and_spelt_numbers(subject, numbers):
    assert subject_ticket_numbers(subject) == numbers


@pytest.mark.django_db
def test_numbers_reserve_returns_a_block_and_next_continues_after_it():
    before = ticket_number_next()

    block = list(ticket_numbers_reserve(100))

    assert len(block) == 100
    assert block == sorted(set(block))
    assert block[0] > before
    assert ticket_number_next() > block[-1]


@pytest.mark.django_db
def test_numbers_reserve_of_nothing_takes_nothing():
    before = ticket_number_next()

    assert list(ticket_numbers_reserve(0)) == []
    assert ticket_number_next() == before + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_threads_creating_tickets_at_once_get_fifty_distinct_increasing_numbers(
    queue, contact
):
    threads_count = 50
    barrier = threading.Barrier(threads_count)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            ticket = ticket_create(
                queue=queue,
                requester=contact,
                channel=Ticket.Channel.WEB,
                subject=f"Одновременное обращение {i}",
                text="Текст",
            )
            with lock:
                numbers.append(ticket.number)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(numbers) == threads_count
    assert len(set(numbers)) == threads_count
    stored = list(Ticket.objects.order_by("number").values_list("number", flat=True))
    assert stored == sorted(numbers)
    later = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Позже", text="Т"
    )
    assert later.number > max(numbers)


@pytest.mark.django_db
def test_numbering_recovers_when_the_counter_row_is_gone(queue, contact):
    from tests.factories import TicketFactory
    from tickets.models import NumberSequence
    from tickets.numbering import ticket_number_next

    existing = TicketFactory(queue=queue, requester=contact)
    NumberSequence.objects.all().delete()

    assert ticket_number_next() > existing.number
