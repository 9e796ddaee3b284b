"""Responses validate against the committed schema (docs/openapi.yaml): what the schema
promises integrators is what the endpoints send."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from jsonschema import Draft202012Validator

from tests.factories import MessageFactory, TicketFactory
from tests.knowledge_base.factories import ArticleFactory

pytestmark = pytest.mark.django_db

DOC = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi.yaml").read_text())


def _response_schema(path: str, method: str, status: int) -> dict:
    content = DOC["paths"][path][method]["responses"][str(status)]["content"]
    return content["application/json"]["schema"]


def _assert_valid(body, path: str, method: str = "get", status: int = 200) -> None:
    schema = {**_response_schema(path, method, status), "components": DOC["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_ticket_list_and_detail_match_the_schema(api, api_user, queue):
    ticket = TicketFactory(queue=queue, assignee=api_user)
    MessageFactory(ticket=ticket)
    _assert_valid(api.get("/api/v1/tickets/?estimate=1").json(), "/api/v1/tickets/")
    _assert_valid(api.get(f"/api/v1/tickets/{ticket.pk}/").json(), "/api/v1/tickets/{id}/")


def test_create_and_reply_match_the_schema(api, queue):
    body = {
        "queue": queue.pk,
        "subject": "Тема",
        "text": "Текст",
        "full_name": "Петрова Мария",
        "email": "maria@example.com",
        "consent": True,
    }
    created = api.post("/api/v1/tickets/", body)
    _assert_valid(created.json(), "/api/v1/tickets/", "post", 201)
    pk = created.json()["ticket"]["id"]
    reply = api.post(f"/api/v1/tickets/{pk}/messages/", {"text": "Ответ"})
    _assert_valid(reply.json(), "/api/v1/tickets/{id}/messages/", "post", 201)
    moved = api.post(f"/api/v1/tickets/{pk}/transition/", {"status": "pending"})
    _assert_valid(moved.json(), "/api/v1/tickets/{id}/transition/", "post", 200)


def test_directory_and_knowledge_base_match_the_schema(api, client, queue):
    ArticleFactory(status="published", audience="public", title="Как восстановить пароль")
    _assert_valid(api.get("/api/v1/queues/").json(), "/api/v1/queues/")
    _assert_valid(api.get("/api/v1/canned-responses/").json(), "/api/v1/canned-responses/")
    _assert_valid(client.get("/api/v1/kb/articles/").json(), "/api/v1/kb/articles/")
    _assert_valid(client.get("/api/v1/kb/search/?q=пароль").json(), "/api/v1/kb/search/")
