"""API fixtures: a queue worked by a group, an operator in it, tokens, a JSON client."""

import json

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from api.models import Scope
from api.services import api_token_create
from tests.factories import QueueFactory, UserFactory

ALL_SCOPES = tuple(Scope.values)
OPERATOR_PERMISSIONS = ("tickets.view_ticket", "tickets.change_ticket")


@pytest.fixture
def nav_group(queue):
    group = Group.objects.create(name="Навигатор")
    queue.operators_group = group
    queue.save(update_fields=["operators_group"])
    return group


@pytest.fixture
def booking_queue(db):
    queue = QueueFactory(name="Бронирование жилья", slug="housing")
    queue.operators_group = Group.objects.create(name="Жильё")
    queue.save(update_fields=["operators_group"])
    return queue


@pytest.fixture
def api_user(nav_group, booking_queue):
    """Works both queues (the token narrows it)."""
    user = UserFactory(username="api-op", permissions=OPERATOR_PERMISSIONS)
    user.groups.add(nav_group, booking_queue.operators_group)
    return user


@pytest.fixture
def make_token(api_user):
    def make(scopes=ALL_SCOPES, *, user=None, queues=(), expires_at=None) -> str:
        _token, raw = api_token_create(
            user=user or api_user,
            name="test",
            scopes=scopes,
            queues=queues,
            expires_at=expires_at,
        )
        return raw

    return make


class ApiClient:
    def __init__(self, client: Client, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra)
        return headers

    def get(self, url, data=None, **extra):
        return self.client.get(url, data, **self._headers(extra))

    def post(self, url, body=None, **extra):
        return self.client.post(
            url,
            json.dumps(body or {}),
            content_type="application/json",
            **self._headers(extra),
        )


@pytest.fixture
def api(client, make_token):
    """A client with a token of every scope, acting as `api_user`."""
    return ApiClient(client, make_token())


@pytest.fixture
def api_as(client, make_token):
    def make(scopes=ALL_SCOPES, **kwargs) -> ApiClient:
        return ApiClient(client, make_token(scopes, **kwargs))

    return make
