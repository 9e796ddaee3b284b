"""Reads on the knowledge base: browsing (``browse``) and search (``search``, with a
PostgreSQL full-text back end and a portable fallback). Callers import from here."""

from knowledge_base.selectors.browse import (
    AUDIENCES,
    article_get_visible,
    article_related,
    articles_popular,
    articles_visible,
    categories_with_articles,
    category_articles,
    category_get,
)
from knowledge_base.selectors.results import MAX_QUERY_LENGTH, SearchHit, SearchPage
from knowledge_base.selectors.search import articles_search, articles_suggest
from knowledge_base.selectors.search_fallback import stem

__all__ = [
    "AUDIENCES",
    "MAX_QUERY_LENGTH",
    "SearchHit",
    "SearchPage",
    "article_get_visible",
    "article_related",
    "articles_popular",
    "articles_search",
    "articles_suggest",
    "articles_visible",
    "categories_with_articles",
    "category_articles",
    "category_get",
    "stem",
]
