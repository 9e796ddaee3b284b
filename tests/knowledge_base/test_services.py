"""Saving articles (render + sanitise), publishing, views and votes."""

import pytest

from knowledge_base.models import Article, ArticleVote
from knowledge_base.services import (
    article_publish,
    article_register_view,
    article_save,
    article_unpublish,
    article_vote,
    articles_bulk_create,
    articles_set_status,
    markdown_render,
    visitor_key_hash,
)
from tests.knowledge_base.factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


def test_markdown_is_rendered_to_html():
    html = markdown_render(text="# Заголовок\n\n1. Шаг **один**\n2. Шаг два")

    assert "<h2>Заголовок</h2>" in html
    assert "<strong>один</strong>" in html
    assert "<ol>" in html


def test_markdown_is_sanitised():
    html = markdown_render(
        text='<script>alert(1)</script>\n\n[ссылка](javascript:alert(1)) <img src=x onerror="x()">'
    )

    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html


def test_links_get_safe_rel():
    html = markdown_render(text="[сайт](https://example.com)")

    assert 'rel="noopener noreferrer nofollow"' in html


def test_article_save_fills_rendered_and_plain_text():
    article = ArticleFactory(body="Нажмите **«Войти»**.\n\n- первый\n- второй")

    assert "<strong>«Войти»</strong>" in article.body_html
    assert article.body_text == "Нажмите «Войти». первый второй"


def test_article_save_sets_published_at_on_first_publication():
    article = ArticleFactory(status=Article.Status.DRAFT)
    assert article.published_at is None

    article.status = Article.Status.PUBLISHED
    article_save(article=article)

    assert article.published_at is not None


def test_publish_and_unpublish_switch_status():
    article = ArticleFactory(status=Article.Status.DRAFT)

    article_publish(article=article)
    article.refresh_from_db()
    assert (article.status, article.published_at is not None) == (Article.Status.PUBLISHED, True)

    article_unpublish(article=article)
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_set_status_counts_only_changed_articles():
    drafts = [ArticleFactory(status=Article.Status.DRAFT) for _ in range(2)]
    published = ArticleFactory()

    changed = articles_set_status(
        ids=[a.pk for a in [*drafts, published]], status=Article.Status.PUBLISHED
    )

    assert changed == 2
    assert Article.objects.filter(status=Article.Status.PUBLISHED).count() == 3


def test_bulk_create_renders_every_article():
    category = CategoryFactory()
    created = articles_bulk_create(
        articles=[
            Article(title=f"Статья {n}", slug=f"bulk-{n}", body=f"Текст *{n}*", category=category)
            for n in range(3)
        ]
    )

    assert [a.body_html for a in created] == [f"<p>Текст <em>{n}</em></p>" for n in range(3)]


def test_register_view_increments_counter():
    article = ArticleFactory()

    article_register_view(article=article)
    article_register_view(article=article)

    article.refresh_from_db()
    assert article.view_count == 2


def test_one_vote_per_visitor():
    article = ArticleFactory()
    visitor = visitor_key_hash(visitor_id="abc")

    article_vote(article=article, visitor_key=visitor, helpful=True)
    article_vote(article=article, visitor_key=visitor, helpful=True)

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    assert ArticleVote.objects.count() == 1


def test_changing_mind_moves_the_vote():
    article = ArticleFactory()
    visitor = visitor_key_hash(visitor_id="abc")

    article_vote(article=article, visitor_key=visitor, helpful=True)
    article_vote(article=article, visitor_key=visitor, helpful=False)

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (0, 1)


def test_votes_of_different_visitors_are_counted():
    article = ArticleFactory()

    for visitor_id, helpful in [("a", True), ("b", True), ("c", False)]:
        article_vote(
            article=article, visitor_key=visitor_key_hash(visitor_id=visitor_id), helpful=helpful
        )

    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no, article.helpful_percent) == (2, 1, 67)


def test_visitor_key_is_a_hash_not_the_cookie_value():
    key = visitor_key_hash(visitor_id="cookie-value")

    assert len(key) == 64
    assert "cookie-value" not in key
