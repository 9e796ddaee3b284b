"""Loop rules: never auto-reply to a message a machine wrote."""

from email import message_from_string
from email.policy import default

import pytest

from notifications.automail import auto_generated_reason, sender_address

OWN = ["navigator@support.example", "support@localhost"]


def _mail(headers: str) -> object:
    return message_from_string(headers + "\n\nbody\n", policy=default)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("From: a@example.com\nAuto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
        ("From: a@example.com\nAuto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
        ("From: a@example.com\nPrecedence: bulk", "Precedence: bulk"),
        ("From: a@example.com\nPrecedence: junk", "Precedence: junk"),
        ("From: a@example.com\nPrecedence: list", "Precedence: list"),
        ("From: a@example.com\nList-Id: <news.example.com>", "List-Id present"),
        (
            "From: a@example.com\nList-Unsubscribe: <mailto:u@example.com>",
            "List-Unsubscribe present",
        ),
        ("From: a@example.com\nReturn-Path: <>", "empty Return-Path"),
        ("From: MAILER-DAEMON@mx.example.com", "robot sender mailer-daemon@mx.example.com"),
        ("From: postmaster@example.com", "robot sender postmaster@example.com"),
        ("From: No Reply <noreply@example.com>", "robot sender noreply@example.com"),
        ("From: no-reply@example.com", "robot sender no-reply@example.com"),
        (
            "From: Navigator <Navigator@Support.example>",
            "our own address navigator@support.example",
        ),
        ("From: a@example.com\nX-Auto-Response-Suppress: All", "X-Auto-Response-Suppress: all"),
        ("From: a@example.com\nX-Autoreply: yes", "X-Autoreply present"),
    ],
)
def test_auto_generated_message_is_recognised(headers, expected):
    assert auto_generated_reason(_mail(headers), own_addresses=OWN) == expected


@pytest.mark.parametrize(
    "headers",
    [
        "From: Мария <maria@example.com>\nSubject: Не приходит СМС",
        "From: maria@example.com\nAuto-Submitted: no",
        "From: maria@example.com\nReturn-Path: <maria@example.com>",
        "From: maria@example.com\nPrecedence: normal",
    ],
)
def test_mail_written_by_a_person_gets_none(headers):
    assert auto_generated_reason(_mail(headers), own_addresses=OWN) is None


def test_plain_mapping_of_headers_works_too():
    assert auto_generated_reason({"Precedence": "Bulk"}) == "Precedence: bulk"
    assert auto_generated_reason({"From": "maria@example.com"}) is None


def test_sender_address_is_lower_cased_address_only():
    assert sender_address({"From": "Мария <Maria@Example.COM>"}) == "maria@example.com"
    assert sender_address({}) == ""
