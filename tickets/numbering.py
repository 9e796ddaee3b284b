"""Ticket numbers: `SP-0042`. Unique and increasing under any concurrency (regulation 1).

PostgreSQL: a real sequence (no row lock, no MAX()+1). SQLite: one counter row bumped with
UPDATE ... RETURNING, which SQLite serialises with its database write lock.
"""

import re
import unicodedata
from collections.abc import Sequence

from django.conf import settings
from django.db import connection

SEQUENCE_NAME = "tickets_ticket_number_seq"
COUNTER_NAME = "ticket"
MIN_DIGITS = 4


def _counter_bump(cursor, count: int) -> int:
    """SQLite: move the counter row by `count` and return its new value.

    The row is recreated from MAX(number) if it is gone (a flushed test database); on
    SQLite the whole database is write-locked meanwhile, so that cannot race.
    """
    sql = (
        "UPDATE tickets_numbersequence SET last_value = last_value + %s "
        "WHERE name = %s RETURNING last_value"
    )
    cursor.execute(sql, [count, COUNTER_NAME])
    row = cursor.fetchone()
    if row is None:
        cursor.execute(
            "INSERT INTO tickets_numbersequence (name, last_value) "
            "SELECT %s, COALESCE(MAX(number), 0) FROM tickets_ticket",
            [COUNTER_NAME],
        )
        cursor.execute(sql, [count, COUNTER_NAME])
        row = cursor.fetchone()
    return int(row[0])


def ticket_number_next() -> int:
    """Take the next number. Numbers taken by a rolled-back transaction are skipped."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s)", [SEQUENCE_NAME])
            return int(cursor.fetchone()[0])
        return _counter_bump(cursor, 1)


def ticket_numbers_reserve(count: int) -> Sequence[int]:
    """Take `count` numbers at once, in increasing order (bulk loads such as seed_demo).

    SQLite: one UPDATE moves the counter by `count`, the range is ours. PostgreSQL: the
    values come from the sequence in one statement; under concurrent use they need not
    be contiguous, but they are unique and increasing.
    """
    if count <= 0:
        return range(0)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [SEQUENCE_NAME, count])
            return sorted(int(row[0]) for row in cursor.fetchall())
        last = _counter_bump(cursor, count)
    return range(last - count + 1, last + 1)


def format_ticket_number(number: int | None) -> str:
    if number is None:
        return ""
    return f"{settings.TICKET_PREFIX}-{number:0{MIN_DIGITS}d}"


# --- Reading numbers as people type them (issue 20) ---------------------------------
#
# A citizen reads "SP-0042" off a screen or hears it on the phone and types it back on
# whatever keyboard is at hand: in Cyrillic («СП-42»), with a Cyrillic look-alike inside
# («SР-42», the Р is Cyrillic), with the Russian layout still on («ЫЗ-42» are the keys S
# and P), on a phone that offers full-width characters, in lower case, with a space or
# no dash. Every spelling is derived from the configured prefix, letter by letter, so
# another prefix (TICKET_PREFIX="HD") gets the same treatment.

# Cyrillic letters that look like a Latin one (upper case; after .upper() the lower-case
# look-alikes р, с, у, х... land here too).
_LOOK_ALIKES = {
    "A": "А", "B": "В", "C": "С", "E": "ЕЁ", "H": "Н", "I": "ІӀ", "J": "Ј", "K": "К",
    "M": "М", "O": "О", "P": "Р", "S": "Ѕ", "T": "Т", "X": "Х", "Y": "УҮ",
}  # fmt: skip
# How a Latin letter is written in Cyrillic when the number is said aloud («эс-пэ» → СП).
_SPOKEN = {
    "A": "А", "B": "Б", "C": "ЦС", "D": "Д", "E": "Е", "F": "Ф", "G": "ГЖ", "H": "Х",
    "I": "И", "J": "Д", "K": "К", "L": "Л", "M": "М", "N": "Н", "O": "О", "P": "П",
    "Q": "К", "R": "Р", "S": "С", "T": "Т", "U": "У", "V": "В", "W": "В", "X": "Х",
    "Y": "Й", "Z": "З",
}  # fmt: skip
# The same key on the Russian ЙЦУКЕН layout (the layout switch was forgotten).
_SAME_KEY = dict(zip("QWERTYUIOPASDFGHJKLZXCVBNM", "ЙЦУКЕНГШЩЗФЫВАПРОЛДЯЧСМИТЬ", strict=True))
# Hyphens and dashes people (and word processors) put between prefix and digits.
_SEPARATORS = "-‐‑‒–—―−_#.:/\\"
_NUMERO = "№"


def _letter_spellings(letter: str) -> frozenset[str]:
    """Every character that may stand for one letter of the prefix (upper case)."""
    letter = letter.upper()
    spellings = {letter}
    for table in (_LOOK_ALIKES, _SPOKEN, _SAME_KEY):
        spellings.update(table.get(letter, ""))
        # A Cyrillic prefix: the Latin letters that map onto it.
        spellings.update(latin for latin, cyrillic in table.items() if letter in cyrillic)
    return frozenset(spellings)


def _prefix_spellings(prefix: str) -> tuple[frozenset[str], ...]:
    return tuple(_letter_spellings(letter) for letter in prefix)


def _is_our_prefix(typed: str) -> bool:
    """Could `typed` be the configured prefix, spelt any of the ways above?"""
    expected = _prefix_spellings(settings.TICKET_PREFIX)
    typed = typed.upper()
    return len(typed) == len(expected) and all(
        char in allowed for char, allowed in zip(typed, expected, strict=True)
    )


def _canonical_text(text: str) -> str:
    """Full-width and other compatibility forms to plain ones (ＳＰ－４２ → SP-42),
    invisible characters (zero-width space, soft hyphen) dropped."""
    # NFKC would turn № into "No"; keep it a separator.
    text = text.replace(_NUMERO, "#")
    text = unicodedata.normalize("NFKC", text)
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


_NUMBER_RE = re.compile(
    r"^\s*[\[(#«\"']?\s*(?P<prefix>[^\W\d_]{1,10})?\s*["
    + re.escape(_SEPARATORS)
    + r"]?\s*(?P<digits>[0-9]{1,15})\s*[\])»\"']?[.,;!]?\s*$"
)


def parse_ticket_number(text: str | None) -> int | None:
    """What people type → the number, or None: `SP-0042`, `sp42`, `SP 42`, `42`,
    `[SP-0042]`, `СП-0042`, `SР-0042` (Cyrillic Р), `ЫЗ-0042`, `ＳＰ－００４２`.

    The one reader of ticket numbers: the status look-up, the form's earlier number, the
    chat, the admin search and the phone screen all call it. A different prefix
    (`AB-42`) is not our number.
    """
    if not text:
        return None
    match = _NUMBER_RE.match(_canonical_text(text))
    if not match:
        return None
    prefix = match.group("prefix")
    if prefix and not _is_our_prefix(prefix):
        return None
    number = int(match.group("digits"))
    return number or None


# `[SP-0042]` as we put it in subjects, or a bracketed number in another spelling.
_SUBJECT_TAG_RE = re.compile(r"[\[(]([^\[\]()]{1,30})[\])]")
# A bare number in a subject ("по обращению СП-0042") needs a prefix and all four
# digits, so "Windows XP SP2" or "дом 42" are not taken for ticket numbers.
_SUBJECT_BARE_RE = re.compile(
    r"(?<![^\W_])([^\W\d_]{1,10}\s?[" + re.escape(_SEPARATORS) + r"]?\s?[0-9]{4,15})(?![^\W_])"
)


def subject_ticket_numbers(subject: str | None) -> list[int]:
    """The ticket numbers a mail subject names, tags first, in order, without repeats.

    Candidates only: whether the sender may write on that ticket is for the caller
    (`tickets.intake.threading`) to decide.
    """
    text = _canonical_text(subject or "")
    found: list[int] = []
    for pattern in (_SUBJECT_TAG_RE, _SUBJECT_BARE_RE):
        for match in pattern.finditer(text):
            candidate = match.group(1)
            number = parse_ticket_number(candidate)
            # A tag must carry the prefix too: "[42]" or "(2026)" is not a number of ours.
            if number is not None and not candidate.strip().isdigit() and number not in found:
                found.append(number)
    return found
