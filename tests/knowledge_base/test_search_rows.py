"""The narrow search rows (``ArticleHead``) follow every write of their article."""

import pytest

from knowledge_base.models import Article, ArticleHead
from knowledge_base.selectors import articles_search
from knowledge_base.services import (
    article_publish,
    article_register_view,
    article_save,
    article_unpublish,
    articles_bulk_create,
    articles_reindex,
    articles_set_status,
)
from tests.knowledge_base.factories import ArticleFactory, CategoryFactory

pytestmark = pytest.mark.django_db


def _row(article: Article) -> tuple:
    head = ArticleHead.objects.get(article=article)
    return (head.status, head.audience, head.language, head.view_count)


def test_saving_an_article_writes_its_search_row():
    article = ArticleFactory(
        audience=Article.Audience.STAFF, language=Article.Language.EN, status="published"
    )

    assert _row(article) == ("published", "staff", "en", 0)


def test_editing_an_article_updates_its_search_row():
    article = ArticleFactory(audience=Article.Audience.PUBLIC)
    article.audience = Article.Audience.STAFF
    article.status = Article.Status.DRAFT

    article_save(article=article)

    assert _row(article)[:2] == ("draft", "staff")
    assert ArticleHead.objects.count() == 1


def test_saving_a_stale_instance_keeps_the_counted_views():
    article = ArticleFactory()
    stale = Article.objects.get(pk=article.pk)
    article_register_view(article=article)

    article_save(article=stale)

    assert _row(article)[3] == 1


def test_bulk_create_writes_a_search_row_per_article():
    category = CategoryFactory()
    created = articles_bulk_create(
        articles=[
            Article(title=f"Статья {n}", slug=f"bulk-{n}", body="Текст.", category=category)
            for n in range(3)
        ]
    )

    assert ArticleHead.objects.filter(article__in=created).count() == 3


def test_publish_and_unpublish_update_the_search_row():
    article = ArticleFactory(status=Article.Status.DRAFT)

    article_publish(article=article)
    published = _row(article)[0]
    article_unpublish(article=article)

    assert (published, _row(article)[0]) == ("published", "draft")


def test_bulk_status_change_updates_the_search_rows():
    articles = [ArticleFactory(status=Article.Status.DRAFT) for _ in range(2)]

    articles_set_status(ids=[a.pk for a in articles], status=Article.Status.PUBLISHED)

    assert set(ArticleHead.objects.values_list("status", flat=True)) == {"published"}


def test_views_are_counted_on_the_search_row():
    article = ArticleFactory()

    article_register_view(article=article)
    article_register_view(article=article)

    assert _row(article)[3] == 2


def test_deleting_an_article_deletes_its_search_row():
    article = ArticleFactory()

    article.delete()

    assert not ArticleHead.objects.exists()


def test_reindex_restores_a_missing_search_row_from_the_article():
    article = ArticleFactory(title="Как восстановить пароль", view_count=0)
    ArticleHead.objects.all().delete()
    Article.objects.filter(pk=article.pk).update(view_count=7, audience="staff")

    assert articles_reindex() == 1
    assert _row(article) == ("published", "staff", "ru", 7)
    assert [h.title for h in articles_search("пароль", audience="staff").results] == [
        "Как восстановить пароль"
    ]


def test_kb_reindex_command_rebuilds_a_missing_search_row():
    from io import StringIO

    from django.core.management import call_command

    article = ArticleFactory()
    ArticleHead.objects.filter(article=article).delete()
    out = StringIO()
    call_command("kb_reindex", stdout=out)
    assert ArticleHead.objects.filter(article=article).exists()
    assert "articles reindexed" in out.getvalue()
