"""Reads for browsing the knowledge base: what an audience may see, categories,
popular and related articles."""

from django.db.models import Count, Prefetch, QuerySet

from knowledge_base.models import Article, Category

AUDIENCES = ("public", "staff")


def articles_visible(*, audience: str = "public", language: str | None = None) -> QuerySet:
    """Published articles the audience may read: the public sees public ones only,
    staff sees public and staff-only ones. Drafts are never visible here."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    qs = Article.objects.filter(status=Article.Status.PUBLISHED)
    if audience == "public":
        qs = qs.filter(audience=Article.Audience.PUBLIC)
    if language:
        qs = qs.filter(language=language)
    return qs


def article_get_visible(*, slug: str, audience: str = "public") -> Article | None:
    return (
        articles_visible(audience=audience)
        .select_related("category")
        .prefetch_related("tags")
        .filter(slug=slug)
        .first()
    )


def article_related(*, article: Article, audience: str = "public", limit: int = 5) -> list:
    return list(
        articles_visible(audience=audience)
        .filter(related=article)
        .exclude(pk=article.pk)
        .only("title", "slug", "summary")[:limit]
    )


def articles_popular(*, audience: str = "public", limit: int = 5) -> list[Article]:
    return list(
        articles_visible(audience=audience)
        .order_by("-view_count", "title")
        .only("title", "slug", "summary", "view_count")[:limit]
    )


def categories_with_articles(*, audience: str = "public", per_category: int = 6) -> list:
    """Categories that have visible articles, each with ``visible_articles`` and
    ``visible_count`` (two queries whatever the number of categories)."""
    visible = articles_visible(audience=audience)
    counts = _category_counts(visible)
    categories = list(
        Category.objects.filter(pk__in=counts.keys()).prefetch_related(
            Prefetch(
                "articles",
                # A sliced prefetch: a window function keeps the first N per category.
                queryset=visible.order_by("position", "title").only(
                    "title", "slug", "summary", "category_id", "position"
                )[:per_category],
                to_attr="visible_articles",
            )
        )
    )
    for category in categories:
        category.visible_count = counts[category.pk]
    return categories


def _category_counts(visible: QuerySet) -> dict[int, int]:
    rows = visible.order_by().values("category_id").annotate(n=Count("id"))
    return {row["category_id"]: row["n"] for row in rows}


def category_get(*, slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def category_articles(*, category: Category, audience: str = "public") -> list[Article]:
    return list(
        articles_visible(audience=audience)
        .filter(category=category)
        .only("title", "slug", "summary", "updated_at")
    )
