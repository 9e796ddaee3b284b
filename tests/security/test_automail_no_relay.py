"""Finding 8 (mail): automatic mail never repeats what a stranger typed to an address
that did not write to us. A web or chat form takes any e-mail, so the auto-reply of such
an appeal must not quote its subject or text, and greets by name only if it is a name.
"""

import pytest

from notifications.delivery import notification_build_email
from notifications.models import Notification
from notifications.services import notification_enqueue
from tests.factories import ContactFactory
from tests.tickets.intake.conftest import build_email
from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail, Ticket
from tickets.services import message_add_from_requester, ticket_create, ticket_set_status

pytestmark = pytest.mark.django_db

LURE = "Ваш аккаунт Госуслуг заблокирован, войдите на gosuslugi-verify.example"
BAIT = "Срочно перейдите по ссылке https://gosuslugi-verify.example/login"


def _appeal(queue, *, channel: str, name: str = "Мария Петрова") -> Ticket:
    victim = ContactFactory(full_name=name, email="victim@example.com")
    return ticket_create(queue=queue, requester=victim, channel=channel, subject=LURE, text=BAIT)


def _mail(ticket: Ticket, template: str):
    row = Notification.objects.get(reference=ticket.reference, template=template)
    email = notification_build_email(row)
    return email, email.subject + email.body + email.alternatives[0].content


@pytest.mark.parametrize("channel", [Ticket.Channel.WEB, Ticket.Channel.CHAT])
def test_auto_reply_to_a_form_appeal_does_not_quote_its_subject(queue, channel):
    _, everything = _mail(_appeal(queue, channel=channel), "auto_reply")
    assert "gosuslugi-verify" not in everything
    assert "заблокирован" not in everything


def test_auto_reply_to_a_web_appeal_does_not_quote_its_text(queue):
    _, everything = _mail(_appeal(queue, channel=Ticket.Channel.WEB), "auto_reply")
    assert "Срочно" not in everything


def test_auto_reply_still_gives_the_number_and_the_deadline(queue):
    ticket = _appeal(queue, channel=Ticket.Channel.WEB)
    email, _ = _mail(ticket, "auto_reply")
    assert ticket.reference in email.subject
    assert ticket.reference in email.body
    assert "Мы ответим до " in email.body


def test_greeting_uses_a_name_that_looks_like_a_name(queue):
    ticket = _appeal(queue, channel=Ticket.Channel.WEB, name="Петрова Мария Ивановна")
    email, _ = _mail(ticket, "auto_reply")
    assert email.body.startswith("Здравствуйте, Мария Ивановна!")


@pytest.mark.parametrize(
    "name",
    [
        "Зайдите на gosuslugi-verify.example",
        "https://gosuslugi-verify.example",
        "victim@example.com",
        "Иван 2000",
        "Ваш аккаунт будет удалён сегодня",
    ],
)
def test_greeting_is_neutral_when_the_name_is_not_a_name(queue, name):
    email, everything = _mail(_appeal(queue, channel=Ticket.Channel.WEB, name=name), "auto_reply")
    assert email.body.startswith("Здравствуйте!")
    assert name not in everything


def test_resolved_and_reopened_mail_of_a_web_appeal_do_not_quote_its_subject(queue):
    ticket = _appeal(queue, channel=Ticket.Channel.WEB)
    ticket = ticket_set_status(ticket=ticket, status=Ticket.Status.RESOLVED)
    message_add_from_requester(ticket=ticket, text="Не решено", channel=Ticket.Channel.WEB)
    for template in ("resolved", "reopened"):
        _, everything = _mail(ticket, template)
        assert "gosuslugi-verify" not in everything


def test_auto_reply_to_an_email_appeal_keeps_its_subject(queue):
    result = email_ingest(
        build_email(subject="Не приходит СМС-код"), source=InboundEmail.Source.PIPE
    )
    ticket = Ticket.objects.get(pk=result.ticket_id)
    email, _ = _mail(ticket, "auto_reply")
    assert "Тема: Не приходит СМС-код" in email.body


def test_chat_transcript_greets_by_name_only_if_it_looks_like_one():
    def transcript(name: str) -> str:
        row = notification_enqueue(
            recipient="victim@example.com",
            template="chat_transcript",
            kind=Notification.Kind.NOTICE,
            idempotency_key=f"transcript:{name}",
            context={"number": "SP-0042", "name": name, "date": "05.12.2026", "lines": []},
            reference="SP-0042",
        )
        return notification_build_email(row).body

    assert transcript("Мария Ивановна").startswith("Здравствуйте, Мария Ивановна!")
    assert transcript("Зайдите на gosuslugi-verify.example").startswith("Здравствуйте!")
