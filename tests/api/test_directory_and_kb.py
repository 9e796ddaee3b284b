"""Contacts look-up, queues, canned answers, and the public knowledge base."""

import pytest
from django.contrib.auth.models import Permission

from audit.models import AuditEvent
from tests.factories import ContactFactory, TicketFactory
from tests.knowledge_base.factories import ArticleFactory
from tickets.models import CannedResponse

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"


@pytest.fixture
def pd_user(api_user):
    api_user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    return api_user


@pytest.fixture
def requester(queue, pd_user):
    contact = ContactFactory(
        full_name="Петрова Мария Ивановна",
        email="maria@example.com",
        phone="+79001234567",
        inn="500100732259",
    )
    TicketFactory(queue=queue, requester=contact)
    return contact


@pytest.mark.parametrize(
    "params",
    [
        {"phone": "8 (900) 123-45-67"},
        {"phone": "+7 900 123 45 67"},
        {"phone": "9001234567"},
        {"email": "Maria@Example.com"},
        {"inn": "500100732259"},
    ],
)
def test_contact_lookup_by_any_russian_phone_format_email_or_inn(api, requester, params):
    rows = api.get(CONTACTS, params).json()["results"]
    assert [row["id"] for row in rows] == [requester.pk]
    assert rows[0]["email"] == "maria@example.com"


def test_contact_lookup_needs_the_personal_data_permission(api, queue):
    # An exact look-up answers "is this person on file?": as in the admin's contact search.
    TicketFactory(queue=queue, requester=ContactFactory(email="maria@example.com"))
    response = api.get(CONTACTS, {"email": "maria@example.com"})
    assert response.status_code == 403
    assert "maria" not in response.content.decode()


def test_contact_lookup_needs_exactly_one_criterion(api, pd_user):
    assert api.get(CONTACTS).status_code == 400
    assert api.get(CONTACTS, {"email": "a@b.c", "inn": "1"}).status_code == 400


def test_contact_of_tickets_the_caller_cannot_see_is_not_found(api, pd_user, other_queue):
    contact = ContactFactory(email="hidden@example.com")
    TicketFactory(queue=other_queue, requester=contact)
    assert api.get(CONTACTS, {"email": "hidden@example.com"}).json()["results"] == []


def test_contact_lookup_needs_the_contacts_scope(api_as, requester):
    assert api_as(["tickets:read"]).get(CONTACTS, {"inn": "500100732259"}).status_code == 403


def test_contact_lookup_is_audited_without_personal_data_in_the_label(api, requester):
    rows = api.get(CONTACTS, {"inn": "500100732259"}).json()["results"]
    assert rows[0]["email"] == "maria@example.com"
    event = AuditEvent.objects.get(action="personal_data.viewed")
    assert "maria" not in event.object_label


def test_queues_are_narrowed_to_the_tokens(api_as, queue, booking_queue):
    rows = api_as(queues=[booking_queue]).get("/api/v1/queues/").json()["results"]
    assert [row["slug"] for row in rows] == ["housing"]


def test_canned_answers_of_the_callers_queues_and_common_ones(api_as, queue, other_queue):
    common = CannedResponse.objects.create(title="Общий", body="Здравствуйте, {name}!")
    nav = CannedResponse.objects.create(title="Навигатор", body="…", queue=queue)
    CannedResponse.objects.create(title="Чужой", body="…", queue=other_queue)
    rows = api_as().get("/api/v1/canned-responses/").json()["results"]
    assert sorted(row["id"] for row in rows) == sorted([common.pk, nav.pk])


def test_knowledge_base_is_public_and_shows_published_public_articles_only(client, db):
    published = ArticleFactory(status="published", audience="public")
    ArticleFactory(status="draft", audience="public")
    ArticleFactory(status="published", audience="staff")
    rows = client.get("/api/v1/kb/articles/").json()["results"]
    assert [row["slug"] for row in rows] == [published.slug]
    assert client.get(f"/api/v1/kb/articles/{published.slug}/").status_code == 200
    assert client.get("/api/v1/kb/categories/").status_code == 200


def test_staff_only_article_is_404_for_the_public_and_shown_with_kb_scope(api_as, client, db):
    staff_only = ArticleFactory(status="published", audience="staff")
    assert client.get(f"/api/v1/kb/articles/{staff_only.slug}/").status_code == 404
    assert api_as(["kb:read"]).get(f"/api/v1/kb/articles/{staff_only.slug}/").status_code == 200


def test_knowledge_base_search(client, db):
    ArticleFactory(status="published", audience="public", title="Как восстановить пароль")
    body = client.get("/api/v1/kb/search/", {"q": "пароль"}).json()
    assert [hit["title"] for hit in body["results"]] == ["Как восстановить пароль"]
    assert client.get("/api/v1/kb/search/").status_code == 400
    assert client.get("/api/v1/kb/search/", {"q": "x", "cursor": "!!"}).status_code == 400
