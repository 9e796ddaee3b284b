"""The chat transcript goes only to the e-mail given when the chat started: the public
chat must not relay text from our official address to any address someone types."""

import pytest
from django.core.exceptions import ValidationError

from chat import services as chat_services
from chat.selectors import chat_token_for
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def _start(queue, **kwargs):
    params = {"queue": queue, "full_name": "Мария", "text": "Вопрос", **kwargs}
    return chat_services.chat_start(**params)


def test_transcript_ignores_an_address_posted_with_the_request(client, queue):
    session = _start(queue, email="maria@example.com")

    client.post(
        "/chat/transcript/",
        {"email": "victim@bank.example"},
        HTTP_X_CHAT_TOKEN=chat_token_for(session),
    )

    assert list(
        Notification.objects.filter(template="chat_transcript").values_list("recipient", flat=True)
    ) == ["maria@example.com"]


def test_transcript_of_a_chat_without_an_email_is_refused(client, queue):
    session = _start(queue, phone="+79001234567")

    response = client.post(
        "/chat/transcript/",
        {"email": "victim@bank.example"},
        HTTP_X_CHAT_TOKEN=chat_token_for(session),
    )

    assert response.status_code == 400
    assert not Notification.objects.filter(template="chat_transcript").exists()


def test_transcript_service_takes_no_address(queue):
    session = _start(queue, phone="+79001234567")

    with pytest.raises(ValidationError):
        chat_services.chat_transcript_send(session=session)
    with pytest.raises(TypeError):
        chat_services.chat_transcript_send(session=session, email="victim@bank.example")


def test_widget_has_no_free_address_field_for_the_transcript(client, queue):
    html = client.get("/chat/").content.decode()

    assert 'id="tr-email"' not in html
    assert 'id="transcript-send"' in html


def test_chat_start_tells_the_widget_the_masked_transcript_address(client, queue):
    response = client.post(
        "/chat/start/",
        {"full_name": "Мария", "email": "maria@example.com", "queue": queue.pk, "text": "В"},
    )

    assert response.json()["email"] == "m***@example.com"
