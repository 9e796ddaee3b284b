"""Helpers for the e-mail intake tests: build raw messages in a line."""

from email.message import EmailMessage
from email.utils import make_msgid

import pytest


def build_email(
    *,
    sender: str = "Мария Петрова <maria@example.com>",
    to: str = "navigator@support.example",
    subject: str = "Не приходит СМС-код",
    body: str = "Здравствуйте! Не приходит код подтверждения.",
    message_id: str | None = None,
    headers: dict | None = None,
    html: str | None = None,
    attachments: list[tuple[str, bytes, str]] = (),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if html:
        msg.add_alternative(html, subtype="html")
    for filename, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@pytest.fixture
def make_email():
    return build_email
