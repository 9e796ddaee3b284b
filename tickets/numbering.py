"""Ticket numbers: `SP-0042`. Unique and increasing under any concurrency (regulation 1).

PostgreSQL: a real sequence (no row lock, no MAX()+1). SQLite: one counter row bumped with
UPDATE ... RETURNING, which SQLite serialises with its database write lock.
"""

import re
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


_NUMBER_RE = re.compile(
    r"^\s*[\[(#№]?\s*(?P<prefix>[^\W\d_]{1,10})?\s*[-‐–—_#№.:\s]?\s*(?P<digits>\d{1,15})\s*[\])]?\s*$"
)


def parse_ticket_number(text: str | None) -> int | None:
    """What people type → the number, or None: `SP-0042`, `sp42`, `SP 42`, `42`, `[SP-0042]`.

    A different prefix (`AB-42`) is not our number.
    """
    if not text:
        return None
    match = _NUMBER_RE.match(text)
    if not match:
        return None
    prefix = match.group("prefix")
    if prefix and prefix.upper() != settings.TICKET_PREFIX.upper():
        return None
    number = int(match.group("digits"))
    return number or None


def subject_tag_pattern() -> re.Pattern[str]:
    """`[SP-0042]` as we put it in mail subjects."""
    return re.compile(
        r"\[\s*" + re.escape(settings.TICKET_PREFIX) + r"\s*-?\s*(\d{1,15})\s*\]", re.I
    )
