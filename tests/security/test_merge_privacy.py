"""Merging never puts one citizen's words and files on another citizen's status page."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import ContactFactory
from tickets.models import Attachment, Message, Ticket
from tickets.services import ticket_create, ticket_merge

pytestmark = pytest.mark.django_db


def _ticket(queue, requester, text, **kwargs):
    return ticket_create(
        queue=queue,
        requester=requester,
        channel=Ticket.Channel.WEB,
        subject="Тема",
        text=text,
        auto_reply=False,
        **kwargs,
    )


@pytest.fixture
def two_citizens(queue):
    maria = ContactFactory(full_name="Петрова Мария", email="maria@example.com")
    petr = ContactFactory(full_name="Сидоров Пётр", email="petr@example.com")
    source = _ticket(
        queue,
        petr,
        "Секрет Сидорова: паспорт 4510 123456",
        attachments=[SimpleUploadedFile("passport.pdf", b"%PDF-1.4 secret")],
    )
    target = _ticket(queue, maria, "Вопрос Петровой")
    return source, target


def test_merging_tickets_of_different_requesters_is_refused(two_citizens, operator):
    source, target = two_citizens

    with pytest.raises(ValidationError) as exc:
        ticket_merge(source=source, target=target, actor=operator)

    assert exc.value.code == "different_requesters"


def test_refused_merge_leaves_the_other_citizens_text_and_files_off_the_status_page(
    client, two_citizens, operator
):
    source, target = two_citizens
    with pytest.raises(ValidationError):
        ticket_merge(source=source, target=target, actor=operator)

    html = client.get(target.get_status_url()).content.decode()

    assert "Секрет Сидорова" not in html
    assert "passport.pdf" not in html
    assert not Message.objects.filter(ticket=target, text__contains="Секрет").exists()
    assert not Attachment.objects.filter(ticket=target).exists()
    source.refresh_from_db()
    assert source.merged_into_id is None and source.status != Ticket.Status.CLOSED


def test_merging_tickets_of_the_same_requester_still_moves_the_conversation(queue, operator):
    maria = ContactFactory(email="maria@example.com")
    source = _ticket(queue, maria, "Первое письмо")
    target = _ticket(queue, maria, "Второе письмо")

    ticket_merge(source=source, target=target, actor=operator)

    assert target.messages.filter(text="Первое письмо").exists()


def test_ticket_page_tells_the_operator_why_the_merge_was_refused_in_russian(
    client, supervisor, two_citizens, translations
):
    source, target = two_citizens
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:tickets_ticket_change", args=[source.pk]),
        {"_action": "merge", "number": str(target.number)},
        HTTP_ACCEPT_LANGUAGE="ru",
    )

    html = response.content.decode()
    assert "Нельзя объединить обращения разных заявителей" in html
    assert "Свяжите обращения как связанные" in html
    source.refresh_from_db()
    assert source.merged_into_id is None


def test_bulk_merge_action_reports_the_refusal_per_ticket(client, supervisor, two_citizens):
    source, target = two_citizens
    client.force_login(supervisor)

    response = client.post(
        reverse("admin:tickets_ticket_changelist"),
        {
            "action": "action_merge",
            "_selected_action": [source.pk, target.pk],
            "target": str(target.pk),
            "apply": "1",
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    shown = [str(m) for m in response.context["messages"]]
    assert any(m.startswith(source.reference) and "different requesters" in m for m in shown), shown
    source.refresh_from_db()
    assert source.merged_into_id is None
