"""HTTP side of the chat: page, widget loader, pre-chat step, uploads, files, console."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import ChatSession
from chat.selectors import chat_token_for
from tests.chat.conftest import online, start
from tickets.models import Attachment

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_chat_page_renders_in_russian_by_default(client, queue):
    response = client.get("/chat/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Оставьте сообщение" in body
    assert "Сейчас нет операторов в сети" in body
    assert response["X-Frame-Options"] == "DENY"


def test_chat_page_renders_in_english(client, queue):
    response = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Leave a message" in response.content.decode()


def test_chat_page_says_operators_are_online(client, queue, chat_operator):
    online(chat_operator)
    response = client.get("/chat/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Operators are online" in response.content.decode()


def test_embedded_page_may_be_framed_by_other_sites(client, queue):
    response = client.get("/chat/?embed=1&lang=en")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "site-header" not in response.content.decode()


def test_widget_loader_points_at_this_host(client):
    response = client.get("/chat/widget.js")
    assert response["Content-Type"].startswith("text/javascript")
    body = response.content.decode()
    assert '"http://testserver"' in body
    assert "/chat/?embed=1" in body


def test_start_returns_a_token_and_the_ticket_number(client, queue, chat_operator):
    online(chat_operator)
    response = client.post(
        "/chat/start/",
        {"full_name": "Мария", "email": "maria@example.com", "queue": queue.pk, "text": "Вопрос"},
    )
    data = response.json()
    session = ChatSession.objects.get(pk=data["session"])
    assert data["number"] == session.ticket.reference
    assert data["status"] == "waiting" or data["status"] == "active"
    assert data["token"] == chat_token_for(session)


def test_start_needs_an_email_or_phone(client, queue):
    response = client.post("/chat/start/", {"full_name": "Мария", "queue": queue.pk, "text": "x"})
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_start_offline_answers_with_the_number(client, queue):
    response = client.post(
        "/chat/start/",
        {"full_name": "Мария", "phone": "+79001234567", "queue": queue.pk, "text": "Вопрос"},
    )
    data = response.json()
    assert data["status"] == "offline"
    assert data["number"].startswith("SP-")


def test_start_is_rate_limited_per_address(client, queue, settings):
    settings.CHAT_START_RATE_LIMIT = 1
    form = {"full_name": "М", "phone": "+79001234567", "queue": queue.pk, "text": "В"}
    assert client.post("/chat/start/", form).status_code == 200
    assert client.post("/chat/start/", form).status_code == 429


def _active_session(queue, operator, django_capture_on_commit_callbacks):
    online(operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    session.refresh_from_db()
    return session


def test_upload_adds_a_file_line_shown_inline(
    client, queue, chat_operator, django_capture_on_commit_callbacks
):
    session = _active_session(queue, chat_operator, django_capture_on_commit_callbacks)
    token = chat_token_for(session)
    response = client.post(
        "/chat/upload/",
        {"file": SimpleUploadedFile("screen.png", PNG, content_type="image/png")},
        HTTP_X_CHAT_TOKEN=token,
    )
    line = response.json()["line"]
    assert line["files"][0]["is_image"] is True
    attachment = Attachment.objects.get(ticket=session.ticket)
    shown = client.get(f"{line['files'][0]['url']}?t={token}")
    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/png"
    assert attachment.message.text == "screen.png"


def test_upload_refuses_what_the_form_refuses(
    client, queue, chat_operator, django_capture_on_commit_callbacks
):
    session = _active_session(queue, chat_operator, django_capture_on_commit_callbacks)
    response = client.post(
        "/chat/upload/",
        {"file": SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")},
        HTTP_X_CHAT_TOKEN=chat_token_for(session),
    )
    assert response.status_code == 400
    assert not Attachment.objects.exists()


def test_upload_without_a_token_is_forbidden(client, queue):
    response = client.post("/chat/upload/", {"file": SimpleUploadedFile("a.png", PNG)})
    assert response.status_code == 403


def test_a_file_is_not_served_with_another_chats_token(
    client, queue, chat_operator, django_capture_on_commit_callbacks
):
    session = _active_session(queue, chat_operator, django_capture_on_commit_callbacks)
    other = start(queue, email="other@example.com")
    line = client.post(
        "/chat/upload/",
        {"file": SimpleUploadedFile("screen.png", PNG, content_type="image/png")},
        HTTP_X_CHAT_TOKEN=chat_token_for(session),
    ).json()["line"]
    response = client.get(f"{line['files'][0]['url']}?t={chat_token_for(other)}")
    assert response.status_code == 404


def test_transcript_request_enqueues_a_mail(client, queue, chat_operator):
    online(chat_operator)
    session = start(queue)
    # No address is asked for: the transcript goes to the e-mail given at the start.
    response = client.post("/chat/transcript/", {}, HTTP_X_CHAT_TOKEN=chat_token_for(session))
    assert response.json() == {"ok": True, "email": "m***@example.com"}


def test_console_is_for_staff_only(client, queue):
    response = client.get("/admin/chat/chatsession/console/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_console_renders_for_an_operator(client, queue, chat_operator):
    client.force_login(chat_operator)
    response = client.get("/admin/chat/chatsession/console/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/ws/chat/operator/" in body
    assert "cc-availability" in body


def test_session_changelist_query_count_is_bounded(
    client, queue, supervisor, django_assert_max_num_queries
):
    for i in range(5):
        start(queue, email=f"c{i}@example.com")
    client.force_login(supervisor)
    with django_assert_max_num_queries(12):
        response = client.get("/admin/chat/chatsession/")
    assert response.status_code == 200
