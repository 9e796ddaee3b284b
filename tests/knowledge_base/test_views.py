"""Public pages and the suggestion endpoint."""

import pytest
from django.urls import reverse

from knowledge_base.models import Article
from knowledge_base.views import VISITOR_COOKIE
from tests.factories import UserFactory
from tests.knowledge_base.factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _compiled_messages():
    """Pages are checked in Russian: merge the translation fragments into the .mo."""
    import subprocess
    import sys

    from django.conf import settings
    from django.utils.translation import trans_real

    subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "bin" / "compile-messages")],
        check=True,
        capture_output=True,
    )
    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture
def article():
    return ArticleFactory(
        title="Как восстановить пароль",
        slug="password-recovery",
        summary="Восстановление доступа.",
        body="## Шаги\n\n1. Нажмите «Забыли пароль?».\n2. Введите почту.",
        category=CategoryFactory(name="Регистрация и вход", slug="account"),
    )


def test_index_lists_categories_and_articles(client, article):
    response = client.get("/kb/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "База знаний" in content
    assert "Регистрация и вход" in content
    assert 'href="/kb/password-recovery/"' in content


def test_index_in_english(client, article):
    response = client.get("/kb/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Knowledge base" in response.content.decode()
    assert "Popular questions" in response.content.decode()


def test_index_query_count_does_not_grow_with_articles(client, django_assert_max_num_queries):
    for n in range(3):
        category = CategoryFactory()
        for m in range(4):
            ArticleFactory(category=category, slug=f"c{n}-a{m}")

    # One more than the index needs: the footer's queue deadlines (a constant).
    with django_assert_max_num_queries(5):
        client.get("/kb/")


def test_index_hides_categories_with_only_staff_articles(client, article):
    ArticleFactory(
        category=CategoryFactory(name="Для операторов", slug="operators"),
        audience=Article.Audience.STAFF,
    )

    assert "Для операторов" not in client.get("/kb/").content.decode()


def test_article_page_renders_markdown_breadcrumb_and_vote_form(client, article):
    response = client.get("/kb/password-recovery/")

    content = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Шаги</h2>" in content
    assert 'href="/kb/category/account/"' in content
    assert 'name="helpful" value="yes"' in content
    assert "csrfmiddlewaretoken" in content


def test_article_page_links_to_appeal_with_title(client, article):
    content = client.get("/kb/password-recovery/").content.decode()

    assert "/appeal/?q=%D0%9A%D0%B0%D0%BA" in content


def test_article_page_appeal_link_carries_search_text(client, article):
    content = client.get("/kb/password-recovery/?q=забыл+пароль").content.decode()

    assert "/appeal/?q=%D0%B7%D0%B0%D0%B1%D1%8B%D0%BB+" in content


def test_article_page_counts_views(client, article):
    client.get("/kb/password-recovery/")
    client.get("/kb/password-recovery/")

    article.refresh_from_db()
    assert article.view_count == 2


def test_article_page_in_english(client, article):
    response = client.get("/kb/password-recovery/", HTTP_ACCEPT_LANGUAGE="en")

    assert "Was this article helpful?" in response.content.decode()


def test_draft_article_is_404(client):
    ArticleFactory(slug="draft", status=Article.Status.DRAFT)

    assert client.get("/kb/draft/").status_code == 404


def test_staff_only_article_is_404_for_anonymous(client):
    ArticleFactory(slug="internal", audience=Article.Audience.STAFF)

    assert client.get("/kb/internal/").status_code == 404


def test_staff_only_article_is_shown_to_staff(client):
    ArticleFactory(slug="internal", audience=Article.Audience.STAFF)
    client.force_login(UserFactory(is_staff=True))

    assert client.get("/kb/internal/").status_code == 200


def test_vote_sets_visitor_cookie_and_counts_once(client, article):
    client.post("/kb/password-recovery/vote/", {"helpful": "yes"})
    response = client.post("/kb/password-recovery/vote/", {"helpful": "yes"})

    assert response.status_code == 302
    assert VISITOR_COOKIE in client.cookies
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)


def test_votes_from_two_visitors_are_both_counted(client, article):
    from django.test import Client

    # Two visitors at two addresses: one address casts one new vote a day per article.
    client.post("/kb/password-recovery/vote/", {"helpful": "yes"}, REMOTE_ADDR="203.0.113.1")
    Client().post("/kb/password-recovery/vote/", {"helpful": "no"}, REMOTE_ADDR="203.0.113.2")

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 1)


def test_vote_requires_csrf_token(article):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/kb/password-recovery/vote/", {"helpful": "yes"}
    )

    assert response.status_code == 403


def test_after_voting_page_thanks_and_shows_counts(client, article):
    response = client.post("/kb/password-recovery/vote/", {"helpful": "yes"}, follow=True)

    content = response.content.decode()
    assert "Спасибо за ответ!" in content
    assert 'aria-pressed="true"' in content


def test_vote_on_draft_is_404(client):
    ArticleFactory(slug="draft", status=Article.Status.DRAFT)

    assert client.post("/kb/draft/vote/", {"helpful": "yes"}).status_code == 404


def test_search_page_shows_highlighted_snippets(client, article):
    response = client.get("/kb/search/", {"q": "пароля"})

    content = response.content.decode()
    assert "Как восстановить пароль" in content
    assert "<mark>" in content
    assert "/appeal/?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8F" in content


def test_search_page_empty_state_offers_appeal(client, article):
    content = client.get("/kb/search/", {"q": "жираф"}).content.decode()

    assert "Ничего не найдено" in content
    assert "/appeal/?q=" in content


def test_search_page_escapes_query(client, article):
    content = client.get("/kb/search/", {"q": "<script>alert(1)</script>"}).content.decode()

    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_search_page_pages_through_results(client):
    for n in range(12):
        ArticleFactory(title=f"Документы, вопрос {n}", slug=f"docs-{n}")

    first = client.get("/kb/search/", {"q": "документы"}).content.decode()
    second = client.get("/kb/search/", {"q": "документы", "page": 2}).content.decode()

    assert 'rel="next"' in first
    assert 'rel="prev"' in second
    assert second.count('class="card kb-result"') == 2


def test_search_page_survives_bad_page_number(client, article):
    assert client.get("/kb/search/", {"q": "пароль", "page": "x"}).status_code == 200


def test_search_query_count_is_bounded(client, django_assert_max_num_queries):
    for n in range(10):
        ArticleFactory(title=f"Документы, вопрос {n}", slug=f"docs-{n}")

    with django_assert_max_num_queries(6):
        client.get("/kb/search/", {"q": "документы"})


def test_category_page_lists_visible_articles(client, article):
    ArticleFactory(category=article.category, title="Черновик", status=Article.Status.DRAFT)

    content = client.get("/kb/category/account/").content.decode()

    assert "Как восстановить пароль" in content
    assert "Черновик" not in content


def test_unknown_category_is_404(client):
    assert client.get("/kb/category/nope/").status_code == 404


def test_fixed_paths_are_not_taken_for_article_slugs(client):
    ArticleFactory(slug="search", title="Статья со слагом search")

    assert reverse("knowledge_base:search") == "/kb/search/"
    assert "Поиск по базе знаний" in client.get("/kb/search/").content.decode()


def test_suggest_returns_json_shape(client, article):
    response = client.get("/kb/suggest/", {"q": "забыл пароль"})

    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "results": [
            {
                "title": "Как восстановить пароль",
                "url": "/kb/password-recovery/",
                "summary": "Восстановление доступа.",
            }
        ]
    }


def test_suggest_is_limited_to_five(client):
    for n in range(8):
        ArticleFactory(title=f"Пароль, случай {n}")

    assert len(client.get("/kb/suggest/", {"q": "пароль"}).json()["results"]) == 5


def test_suggest_only_published_public_articles_even_for_staff(client, article):
    ArticleFactory(title="Пароль: черновик", status=Article.Status.DRAFT)
    ArticleFactory(title="Пароль: для операторов", audience=Article.Audience.STAFF)
    client.force_login(UserFactory(is_staff=True))

    results = client.get("/kb/suggest/", {"q": "пароль"}).json()["results"]

    assert [r["title"] for r in results] == ["Как восстановить пароль"]


def test_suggest_ignores_too_short_text(client, article):
    assert client.get("/kb/suggest/", {"q": "па"}).json() == {"results": []}


def test_suggest_is_cacheable(client, article):
    response = client.get("/kb/suggest/", {"q": "пароль"})

    assert "public" in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]


def test_suggest_still_answers_when_cache_is_down(client, article, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)

    response = client.get("/kb/suggest/", {"q": "пароль"})

    assert [r["title"] for r in response.json()["results"]] == ["Как восстановить пароль"]
