"""Demo content for seed_demo / seed_kb."""

import io

import pytest
from django.core.management import call_command

from knowledge_base.demo import seed_articles
from knowledge_base.models import Article, Category
from knowledge_base.selectors import articles_search

pytestmark = pytest.mark.django_db


def test_seed_creates_at_least_twelve_public_articles_in_categories():
    created = seed_articles()

    public = Article.objects.filter(
        status=Article.Status.PUBLISHED, audience=Article.Audience.PUBLIC
    )
    assert created == Article.objects.count()
    assert public.count() >= 12
    assert Category.objects.filter(articles__in=public).distinct().count() >= 4


def test_seed_adds_staff_only_instructions():
    seed_articles()

    assert Article.objects.filter(audience=Article.Audience.STAFF).count() >= 2


def test_seed_is_idempotent():
    first = seed_articles()
    second = seed_articles()

    assert (first > 0, second) == (True, 0)
    assert Article.objects.count() == first


def test_seeded_articles_are_rendered_and_searchable():
    seed_articles()

    assert all("<li>" in html for html in Article.objects.values_list("body_html", flat=True))
    assert articles_search("очистить кэш").results[0].slug == "browser-cache"
    assert articles_search("не приходит код").results[0].slug == "sms-code-not-arriving"


def test_seeded_articles_have_related_articles():
    seed_articles()

    article = Article.objects.get(slug="password-recovery")
    assert article.related.filter(slug="sms-code-not-arriving").exists()


def test_seed_kb_command_reports_counts():
    out = io.StringIO()

    call_command("seed_kb", stdout=out)

    assert "articles created" in out.getvalue()
