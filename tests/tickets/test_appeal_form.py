"""The public appeal form: one transaction, Russian errors, attachments, rate limit, 3.11."""

import re
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from notifications.models import Notification
from tests.factories import QueueFactory, TicketFactory
from tickets.citizen_time import citizen_deadline
from tickets.models import Attachment, Contact, Message, Ticket, TicketEvent, TicketLink

pytestmark = pytest.mark.django_db

URL = "/appeal/"


@pytest.fixture
def data(queue):
    return {
        "full_name": "Петрова Мария Ивановна",
        "email": "maria@example.com",
        "phone": "+7 900 123-45-67",
        "queue": str(queue.pk),
        "kind": Ticket.Kind.PROBLEM,
        "subject": "Не приходит СМС-код",
        "text": "Здравствуйте! Третий день не приходит код подтверждения.",
        "number": "",
        "inn": "",
        "consent": "on",
    }


def _main(response) -> str:
    """The page body without the layout (whose language switcher echoes the URL)."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def _errors(response) -> dict:
    return response.context["form"].errors


def test_form_page_renders_in_russian_with_queues_types_and_kb_hooks(client, queue):
    response = client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Подать обращение" in html
    assert "Сайт Навигатора" in html
    assert "Техническая проблема" in html
    assert 'data-kb-suggest="/kb/suggest/"' in html
    assert '<div id="kb-suggestions"' in html
    assert "js/kb-suggest.js" in html


def test_form_page_renders_in_english_on_request(client, queue):
    response = client.get(URL, HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert "Submit an appeal" in html
    assert "Full name" in html


def test_inactive_queue_is_not_offered(client, queue):
    QueueFactory(name="Закрытый сервис", slug="closed-service", is_active=False)

    assert "Закрытый сервис" not in client.get(URL).content.decode()


def test_subject_is_prefilled_from_the_knowledge_base_query(client, queue):
    response = client.get(URL, {"q": "Как восстановить пароль"})

    assert 'value="Как восстановить пароль"' in response.content.decode()


def test_valid_appeal_creates_contact_ticket_message_history_and_auto_reply(
    client, data, queue, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data)

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("tickets:appeal_done", args=[ticket.reference]) + f"?t={ticket.token}"
    )
    contact = Contact.objects.get()
    assert (contact.full_name, contact.email, contact.phone) == (
        "Петрова Мария Ивановна",
        "maria@example.com",
        "+79001234567",
    )
    assert (ticket.requester, ticket.queue, ticket.kind) == (contact, queue, Ticket.Kind.PROBLEM)
    assert ticket.channel == Ticket.Channel.WEB
    assert ticket.status == Ticket.Status.NEW
    assert ticket.messages.get().text.startswith("Здравствуйте!")
    assert ticket.events.filter(kind=TicketEvent.Kind.CREATED).exists()
    auto_reply = Notification.objects.get(reference=ticket.reference)
    assert auto_reply.recipient == "maria@example.com"
    assert auto_reply.template == "auto_reply"


def test_appeal_with_phone_only_is_accepted(client, data):
    data["email"] = ""

    response = client.post(URL, data)

    assert response.status_code == 302
    assert Ticket.objects.get().requester.phone == "+79001234567"
    assert not Notification.objects.exists()  # nowhere to mail the auto-reply


def test_appeal_with_valid_inn_stores_it_on_the_contact(client, data):
    data["inn"] = "7707083893"

    client.post(URL, data)

    assert Contact.objects.get().inn == "7707083893"


def test_failure_half_way_leaves_nothing_behind(client, data):
    with (
        mock.patch("tickets.notify.ticket_received", side_effect=RuntimeError("outbox down")),
        pytest.raises(RuntimeError),
    ):
        client.post(URL, data)

    assert not Contact.objects.exists()
    assert not Ticket.objects.exists()
    assert not Message.objects.exists()
    assert not TicketEvent.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "error_field", "message"),
    [
        ("full_name", "", "full_name", "Обязательное поле."),
        ("full_name", "   ", "full_name", "Обязательное поле."),
        ("email", "не-почта", "email", "Введите правильный адрес электронной почты."),
        ("phone", "12-34", "phone", "Введите номер телефона из 10–15 цифр"),
        ("queue", "", "queue", "Обязательное поле."),
        ("queue", "999999", "queue", "Выберите корректный вариант"),
        ("kind", "spam", "kind", "Выберите корректный вариант"),
        ("subject", "", "subject", "Обязательное поле."),
        ("text", "", "text", "Обязательное поле."),
        ("text", "я" * 20_001, "text", "Убедитесь, что это значение содержит не более 20000"),
        ("number", "AB-12", "number", "Введите номер так, как он был вам выдан"),
        ("inn", "1234567890", "inn", "ИНН должен состоять из 10 или 12 цифр"),
        ("consent", "", "consent", "Без согласия на обработку персональных данных"),
    ],
)
def test_each_invalid_field_gives_a_russian_error_and_creates_nothing(
    client, data, field, value, error_field, message
):
    data[field] = value

    response = client.post(URL, data)

    assert response.status_code == 200
    assert any(message in error for error in _errors(response)[error_field])
    assert message in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Contact.objects.exists()


def test_neither_email_nor_phone_is_refused_with_a_russian_error_on_both_fields(client, data):
    data["email"] = data["phone"] = ""

    response = client.post(URL, data)

    message = "Укажите адрес электронной почты или телефон, чтобы мы могли вам ответить."
    assert _errors(response)["email"] == [message]
    assert _errors(response)["phone"] == [message]
    assert not Ticket.objects.exists()


def test_html_in_the_form_is_escaped_when_the_form_is_shown_again(client, data):
    data["subject"] = "<script>alert(1)</script>"
    data["consent"] = ""

    html = client.post(URL, data).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_attachments_are_stored_with_the_first_message(client, data):
    data["attachments"] = [
        SimpleUploadedFile("скриншот.png", b"\x89PNG fake", content_type="image/png"),
        SimpleUploadedFile("заявление.pdf", b"%PDF-1.4 fake", content_type="application/pdf"),
    ]

    client.post(URL, data)

    message = Ticket.objects.get().messages.get()
    assert sorted(a.filename for a in message.attachments.all()) == [
        "заявление.pdf",
        "скриншот.png",
    ]


def test_oversize_attachment_is_refused_with_a_message_and_nothing_is_created(
    client, data, settings
):
    settings.UPLOAD_MAX_BYTES = 1024
    data["attachments"] = [SimpleUploadedFile("big.pdf", b"x" * 2048)]

    response = client.post(URL, data)

    assert response.status_code == 200
    assert _errors(response)["attachments"] == [
        "Размер файла «big.pdf» — 2,0\xa0КБ, а допустимо не больше 1,0\xa0КБ."
    ]
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_forbidden_file_type_is_refused_with_a_message(client, data):
    data["attachments"] = [SimpleUploadedFile("virus.exe", b"MZ")]

    response = client.post(URL, data)

    assert "«virus.exe»: файлы этого типа не принимаются" in _errors(response)["attachments"][0]
    assert not Ticket.objects.exists()


def test_too_many_files_are_refused(client, data, settings):
    settings.UPLOAD_MAX_FILES = 2
    data["attachments"] = [SimpleUploadedFile(f"{i}.txt", b"x") for i in range(3)]

    response = client.post(URL, data)

    assert _errors(response)["attachments"] == ["Можно приложить не больше 2 файлов."]
    assert not Ticket.objects.exists()


def test_rate_limit_answers_429_with_a_friendly_page(client, data, settings):
    settings.APPEAL_RATE_LIMIT = 2
    for _ in range(2):
        assert client.post(URL, data).status_code == 302

    response = client.post(URL, data)

    assert response.status_code == 429
    assert "Слишком много запросов" in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert Ticket.objects.count() == 2


def test_rate_limit_counts_per_client_address(client, data, settings):
    settings.APPEAL_RATE_LIMIT = 1
    assert client.post(URL, data, REMOTE_ADDR="10.0.0.1").status_code == 302

    assert client.post(URL, data, REMOTE_ADDR="10.0.0.2").status_code == 302
    assert client.post(URL, data, REMOTE_ADDR="10.0.0.1").status_code == 429


def test_rate_limit_zero_disables_it(client, data, settings):
    settings.APPEAL_RATE_LIMIT = 0

    codes = {client.post(URL, data).status_code for _ in range(5)}

    assert codes == {302}
    assert Ticket.objects.count() == 5


def test_existing_number_with_matching_email_continues_that_ticket(client, data, queue, contact):
    ticket = TicketFactory(queue=queue, requester=contact, status=Ticket.Status.OPEN)
    data["number"] = ticket.reference.lower().replace("-", " ")
    data["text"] = "Дополнение: код так и не пришёл."

    response = client.post(URL, data)

    assert Ticket.objects.count() == 1
    assert ticket.messages.get().text == "Дополнение: код так и не пришёл."
    # Accepted, but a number and an e-mail do not earn the private link.
    assert ticket.token not in response["Location"]
    assert ticket.reference in response["Location"]


def test_existing_number_with_matching_phone_reopens_a_resolved_ticket(
    client, data, queue, contact
):
    ticket = TicketFactory(queue=queue, requester=contact, status=Ticket.Status.RESOLVED)
    data.update(number=str(ticket.number), email="", phone="8 (900) 123-45-67")

    client.post(URL, data)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopened_count == 1


def test_existing_number_of_a_stranger_opens_a_new_ticket_without_revealing_the_other(
    client, data, queue
):
    stranger = TicketFactory(queue=queue, subject="Чужая тайна")
    data["number"] = stranger.reference

    response = client.post(URL, data)
    done = client.get(response["Location"]).content.decode()

    new = Ticket.objects.exclude(pk=stranger.pk).get()
    assert not stranger.messages.exists()
    assert TicketLink.objects.filter(
        source=new, target=stranger, kind=TicketLink.Kind.RELATED
    ).exists()
    assert TicketLink.objects.filter(
        source=stranger, target=new, kind=TicketLink.Kind.RELATED
    ).exists()
    assert new.reference in done
    assert stranger.reference not in done
    assert "Чужая тайна" not in done
    assert stranger.token not in response["Location"]


def test_existing_closed_ticket_is_continued_in_a_new_linked_ticket(client, data, queue, contact):
    closed = TicketFactory(queue=queue, requester=contact, status=Ticket.Status.CLOSED)
    data["number"] = closed.reference

    client.post(URL, data)

    new = Ticket.objects.exclude(pk=closed.pk).get()
    assert new.messages.get().text == data["text"]
    assert TicketLink.objects.filter(
        source=new, target=closed, kind=TicketLink.Kind.CONTINUES
    ).exists()
    assert TicketLink.objects.filter(
        source=closed, target=new, kind=TicketLink.Kind.CONTINUED_BY
    ).exists()


def test_unknown_existing_number_simply_opens_a_new_ticket(client, data):
    data["number"] = "SP-9999"

    assert client.post(URL, data).status_code == 302
    assert Ticket.objects.count() == 1
    assert not TicketLink.objects.exists()


def test_done_page_shows_the_number_large_the_deadline_and_the_private_link(client, data):
    response = client.post(URL, data, follow=True)

    ticket = Ticket.objects.get()
    html = response.content.decode()
    assert f'<strong class="ticket-number">{ticket.reference}</strong>' in html
    with translation.override("ru"):
        due = citizen_deadline(ticket.first_response_due)
    assert f"Ответ будет дан в течение 24 часов, до {due}." in html
    assert f"/appeal/{ticket.reference}/?t={ticket.token}" in html


def test_done_page_without_the_token_is_not_found(client, data):
    client.post(URL, data)
    ticket = Ticket.objects.get()

    for url in (
        reverse("tickets:appeal_done", args=[ticket.reference]),
        reverse("tickets:appeal_done", args=[ticket.reference]) + "?t=wrong",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert ticket.reference not in _main(response)


def test_done_page_uses_the_hours_of_the_queue_with_russian_plural(client, data, queue):
    queue.sla_first_response_hours = 1
    queue.save(update_fields=["sla_first_response_hours"])

    html = client.post(URL, data, follow=True).content.decode()

    assert re.search(r"в течение 1 часа, до \d\d:\d\d \w+, \d{1,2} \w+( \d{4})? \(МСК\)", html)


def test_server_error_shows_the_friendly_page_without_a_traceback(client, data):
    client.raise_request_exception = False
    with mock.patch("tickets.views.public.appeal_submit", side_effect=RuntimeError("boom")):
        response = client.post(URL, data)

    html = response.content.decode()
    assert response.status_code == 500
    assert "Что-то пошло не так" in html
    assert "boom" not in html
    assert "Traceback" not in html


def test_the_example_number_follows_the_configured_prefix(client, data, settings):
    settings.TICKET_PREFIX = "HD"

    page = _main(client.get(URL))
    refused = _errors(client.post(URL, {**data, "number": "AB-1"}))

    assert "например HD-0042" in page
    assert refused["number"] == ["Введите номер так, как он был вам выдан, например HD-0042."]
