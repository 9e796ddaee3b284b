"""The citizen's status page: the token opens it, nothing else does; replies; look-up."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notifications.models import Notification
from tests.factories import ContactFactory, UserFactory
from tickets.models import Ticket, TicketLink
from tickets.services import message_add_reply, ticket_create, ticket_set_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(queue, contact):
    return ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Не приходит СМС-код",
        text="Здравствуйте! Код подтверждения не приходит.",
        kind=Ticket.Kind.PROBLEM,
    )


@pytest.fixture
def stranger_ticket(queue):
    return ticket_create(
        queue=queue,
        requester=ContactFactory(full_name="Сидоров Пётр", email="petr@example.com"),
        channel=Ticket.Channel.WEB,
        subject="Чужое обращение",
        text="Секрет Сидорова",
    )


def _status_url(ticket, token=None) -> str:
    url = reverse("tickets:status", args=[ticket.reference])
    return url if token is None else f"{url}?t={token}"


def _main(response) -> str:
    """The page body without the layout (whose language switcher echoes the URL)."""
    html = response.content.decode()
    return html[html.index("<main") : html.index("</main>")]


def test_right_token_shows_status_type_queue_deadline_and_messages(client, ticket):
    response = client.get(ticket.get_status_url())

    html = _main(response)
    assert response.status_code == 200
    assert ticket.reference in html
    assert "Не приходит СМС-код" in html
    assert "Новое" in html
    assert "Техническая проблема" in html
    assert "Сайт Навигатора" in html
    assert "Ответ до" in html
    assert "Код подтверждения не приходит." in html
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_status_page_accepts_the_number_as_people_type_it(client, ticket):
    response = client.get(f"/appeal/{ticket.number}/?t={ticket.token}")

    assert response.status_code == 200


def test_wrong_missing_or_foreign_tokens_and_unknown_numbers_all_look_the_same(
    client, ticket, stranger_ticket
):
    responses = [
        client.get(_status_url(ticket)),
        client.get(_status_url(ticket, "")),
        client.get(_status_url(ticket, "x" * 32)),
        client.get(_status_url(ticket, ticket.token[:-1])),
        client.get(_status_url(ticket, stranger_ticket.token)),
        client.get(_status_url(stranger_ticket, ticket.token)),
        client.get(f"/appeal/SP-9999/?t={ticket.token}"),
        client.get(f"/appeal/nonsense/?t={ticket.token}"),
    ]

    assert {r.status_code for r in responses} == {404}
    bodies = {_main(r) for r in responses}
    assert len(bodies) == 1
    body = bodies.pop()
    assert "Ничего не найдено" in body
    for secret in ("Не приходит СМС-код", "Чужое обращение", "Секрет Сидорова", "Петрова"):
        assert secret not in body


def test_text_with_html_is_escaped(client, queue, contact):
    ticket = ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject='<img src=x onerror="alert(1)">',
        text="<script>alert('xss')</script>",
    )

    html = client.get(ticket.get_status_url()).content.decode()

    assert "<script>alert('xss')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    assert '<img src=x onerror="alert(1)">' not in html


def test_internal_notes_are_hidden_and_public_answers_shown(client, ticket, operator):
    message_add_reply(
        ticket=ticket, author=operator, text="Внутренняя заметка: проверить шлюз", is_internal=True
    )
    message_add_reply(ticket=ticket, author=operator, text="Мы отправили код повторно.")

    html = client.get(ticket.get_status_url()).content.decode()

    assert "Внутренняя заметка" not in html
    assert "Мы отправили код повторно." in html


def test_status_page_query_count_does_not_grow_with_messages(
    client, ticket, operator, django_assert_max_num_queries
):
    for i in range(10):
        message_add_reply(ticket=ticket, author=operator, text=f"Ответ {i}")

    with django_assert_max_num_queries(8):
        client.get(ticket.get_status_url())


def test_attachment_downloads_with_the_token_only(client, queue, contact):
    ticket = ticket_create(
        queue=queue,
        requester=contact,
        channel=Ticket.Channel.WEB,
        subject="Файл",
        text="Смотрите вложение",
        attachments=[SimpleUploadedFile("акт.pdf", b"%PDF-1.4 data", "application/pdf")],
    )
    attachment = ticket.attachments.get()
    url = reverse("tickets:attachment", args=[ticket.reference, attachment.pk])

    ok = client.get(f"{url}?t={ticket.token}")
    assert ok.status_code == 200
    assert b"".join(ok.streaming_content) == b"%PDF-1.4 data"
    assert ok["Content-Disposition"].startswith("attachment;")
    assert ok["X-Content-Type-Options"] == "nosniff"
    assert client.get(url).status_code == 404
    assert client.get(f"{url}?t=wrong").status_code == 404


def test_attachment_of_another_ticket_or_an_internal_note_is_not_found(
    client, ticket, stranger_ticket, operator
):
    note = message_add_reply(
        ticket=ticket,
        author=operator,
        text="Скан паспорта",
        is_internal=True,
        attachments=[SimpleUploadedFile("passport.pdf", b"secret")],
    )
    internal = note.attachments.get()
    foreign = message_add_reply(
        ticket=stranger_ticket,
        author=operator,
        text="Ответ",
        attachments=[SimpleUploadedFile("other.pdf", b"other")],
    ).attachments.get()

    for attachment in (internal, foreign):
        url = reverse("tickets:attachment", args=[ticket.reference, attachment.pk])
        assert client.get(f"{url}?t={ticket.token}").status_code == 404
    html = client.get(ticket.get_status_url()).content.decode()
    assert "passport.pdf" not in html


def test_reply_adds_a_message_with_attachments(client, ticket):
    response = client.post(
        _status_url(ticket),
        {
            "t": ticket.token,
            "text": "Код пришёл, спасибо",
            "attachments": [SimpleUploadedFile("photo.jpg", b"jpg", "image/jpeg")],
        },
    )

    assert response.status_code == 302
    assert response["Location"] == ticket.get_status_url()
    message = ticket.messages.order_by("-id").first()
    assert message.text == "Код пришёл, спасибо"
    assert message.attachments.get().filename == "photo.jpg"


def test_reply_with_a_wrong_token_is_not_found_and_adds_nothing(client, ticket):
    response = client.post(_status_url(ticket), {"t": "wrong", "text": "Взлом"})

    assert response.status_code == 404
    assert ticket.messages.count() == 1


def test_reply_with_forbidden_file_is_refused(client, ticket):
    response = client.post(
        _status_url(ticket),
        {"t": ticket.token, "text": "Вот", "attachments": [SimpleUploadedFile("x.exe", b"MZ")]},
    )

    assert response.status_code == 200
    assert "файлы этого типа не принимаются" in response.content.decode()
    assert ticket.messages.count() == 1


def test_reply_reopens_a_resolved_ticket(client, ticket, operator):
    message_add_reply(ticket=ticket, author=operator, text="Готово", resolve=True)

    client.post(_status_url(ticket), {"t": ticket.token, "text": "Нет, не работает"})

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.reopened_count == 1


def test_reply_to_a_closed_ticket_opens_a_new_linked_one_and_shows_its_number(
    client, ticket, operator
):
    ticket_set_status(ticket=ticket, status=Ticket.Status.CLOSED, actor=operator)

    response = client.post(
        _status_url(ticket), {"t": ticket.token, "text": "Снова не приходит код"}, follow=True
    )

    new = Ticket.objects.exclude(pk=ticket.pk).get()
    assert new.messages.get().text == "Снова не приходит код"
    assert TicketLink.objects.filter(
        source=new, target=ticket, kind=TicketLink.Kind.CONTINUES
    ).exists()
    html = response.content.decode()
    assert f"Обращение {ticket.reference} закрыто" in html
    assert new.reference in html
    assert response.redirect_chain[-1][0] == new.get_status_url()


def test_lookup_by_number_and_email_shows_the_status_and_mails_the_link(client, ticket):
    # Knowing a number and a contact gives the status, never the private link itself.
    response = client.post(
        "/appeal/status/", {"number": ticket.reference.lower(), "contact": "Maria@Example.com"}
    )

    assert response.status_code == 200
    assert response.context["found"].ticket == ticket
    html = response.content.decode()
    assert ticket.token not in html
    assert "Код подтверждения не приходит" not in html
    assert Notification.objects.filter(
        template="status_link", recipient=ticket.requester.email
    ).exists()


def test_lookup_by_number_and_phone_in_any_format_finds_the_ticket(client, ticket):
    response = client.post(
        "/appeal/status/", {"number": str(ticket.number), "contact": "8 (900) 123-45-67"}
    )

    assert response.context["found"].ticket == ticket
    assert ticket.token not in response.content.decode()


def test_lookup_with_someone_elses_contact_or_unknown_number_says_not_found_the_same_way(
    client, ticket, stranger_ticket
):
    attempts = [
        {"number": ticket.reference, "contact": "petr@example.com"},
        {"number": stranger_ticket.reference, "contact": "maria@example.com"},
        {"number": "SP-9999", "contact": "maria@example.com"},
        {"number": ticket.reference, "contact": "+7 900 000-00-00"},
    ]

    responses = [client.post("/appeal/status/", data) for data in attempts]

    assert {r.status_code for r in responses} == {200}
    errors = {tuple(r.context["form"].non_field_errors()) for r in responses}
    assert errors == {
        (
            "Обращение с таким номером и электронной почтой или телефоном не найдено. "
            "Проверьте данные и попробуйте ещё раз.",
        )
    }
    for response in responses:
        assert ticket.token not in response.content.decode()
        assert stranger_ticket.token not in response.content.decode()


def test_lookup_with_a_number_alone_is_refused(client, ticket):
    response = client.post("/appeal/status/", {"number": ticket.reference, "contact": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["contact"] == ["Обязательное поле."]


def test_lookups_are_rate_limited(client, ticket, settings):
    settings.STATUS_LOOKUP_RATE_LIMIT = 3
    for _ in range(3):
        client.post("/appeal/status/", {"number": "SP-9999", "contact": "x@example.com"})

    response = client.post(
        "/appeal/status/", {"number": ticket.reference, "contact": "maria@example.com"}
    )

    assert response.status_code == 429
    assert "Слишком много запросов" in response.content.decode()


def test_resolved_ticket_offers_the_feedback_link(client, ticket):
    operator = UserFactory(username="op-feedback")
    message_add_reply(ticket=ticket, author=operator, text="Решено", resolve=True)

    html = client.get(ticket.get_status_url()).content.decode()

    assert reverse("tickets:feedback", args=[ticket.reference]) in html


def test_merged_ticket_says_where_the_conversation_went(client, queue, contact, operator):
    from tickets.services import ticket_merge

    first = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Дубль", text="Раз"
    )
    second = ticket_create(
        queue=queue, requester=contact, channel=Ticket.Channel.WEB, subject="Основное", text="Два"
    )
    ticket_merge(source=first, target=second, actor=operator)

    html = client.get(first.get_status_url()).content.decode()

    assert f"объединено с обращением {second.reference}" in html
    assert second.token not in html
