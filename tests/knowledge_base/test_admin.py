"""Editors' admin: list, filters, preview, publish/unpublish, saving renders Markdown."""

import pytest

from knowledge_base.models import Article
from tests.factories import UserFactory
from tests.knowledge_base.factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_client(client):
    client.force_login(UserFactory(username="editor", is_staff=True, is_superuser=True))
    return client


def test_changelist_shows_statistics_and_filters(editor_client, django_assert_max_num_queries):
    for n in range(5):
        ArticleFactory(helpful_yes=3, helpful_no=1, view_count=10 + n)

    with django_assert_max_num_queries(12):
        response = editor_client.get(
            "/admin/knowledge_base/article/", {"status__exact": "published", "o": "7"}
        )

    content = response.content.decode()
    assert response.status_code == 200
    assert "75% (4)" in content
    assert "audience__exact" in content


def test_change_page_shows_rendered_preview(editor_client):
    article = ArticleFactory(body="**Жирный** текст")

    content = editor_client.get(f"/admin/knowledge_base/article/{article.pk}/change/").content

    assert "<strong>Жирный</strong>" in content.decode()


def test_saving_in_admin_renders_markdown(editor_client):
    category = CategoryFactory()

    response = editor_client.post(
        "/admin/knowledge_base/article/add/",
        {
            "title": "Новая статья",
            "slug": "new-article",
            "category": category.pk,
            "position": 0,
            "summary": "",
            "body": "Шаги:\n\n1. Первый\n2. Второй",
            "status": "published",
            "audience": "public",
            "language": "ru",
        },
    )

    assert response.status_code == 302
    article = Article.objects.get(slug="new-article")
    assert "<ol>" in article.body_html
    assert article.published_at is not None


def test_publish_and_unpublish_actions(editor_client):
    article = ArticleFactory(status=Article.Status.DRAFT)

    editor_client.post(
        "/admin/knowledge_base/article/",
        {"action": "publish_selected", "_selected_action": [article.pk]},
    )
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED

    editor_client.post(
        "/admin/knowledge_base/article/",
        {"action": "unpublish_selected", "_selected_action": [article.pk]},
    )
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_category_positions_are_editable_in_list(editor_client):
    CategoryFactory(position=5)

    response = editor_client.get("/admin/knowledge_base/category/")

    assert 'name="form-0-position" value="5"' in response.content.decode()
