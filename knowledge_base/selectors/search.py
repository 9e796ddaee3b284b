"""``articles_search`` is the one search every caller uses (public search page,
suggestions on the appeal form, the operator's ticket page); ``articles_suggest``
shapes its first results for JSON."""

from django.conf import settings
from django.db import connection

from knowledge_base.models import Article
from knowledge_base.selectors.browse import articles_visible
from knowledge_base.selectors.results import MAX_QUERY_LENGTH, WORD_RE, SearchPage
from knowledge_base.selectors.search_fallback import search_fallback
from knowledge_base.selectors.search_postgres import search_postgres


def articles_search(
    query: str,
    *,
    audience: str = "public",
    language: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> SearchPage:
    """Find visible articles matching ``query``, best first, with highlighted snippets.

    PostgreSQL: full-text search (``russian`` stemming, title A > summary B > body C)
    with web-search syntax; when every word must match and nothing does, any word may
    match; when still nothing, each word is replaced by the most similar word of any
    title (trigram similarity, ``SearchTerm``) and the search runs again (typos).
    SQLite: tokenise, strip common Russian endings, match any word in title, summary
    or text, rank title hits first; close title words stand in for typos.
    """
    return _search(query, audience=audience, language=language, limit=limit, offset=offset)


def articles_suggest(text: str, *, audience: str = "public", limit: int = 5) -> list[dict]:
    """Up to ``limit`` articles for the text a citizen is typing or a ticket's text,
    as plain dicts (title, url, absolute_url, summary) ready for JSON. For staff (the
    operator's ticket page) each also carries ``body``, the Markdown to insert into a
    reply."""
    page = _search(text, audience=audience, language=None, limit=limit, offset=0, light=True)
    if not page.results:
        return []
    bodies: dict[int, str] = {}
    if audience == "staff":
        bodies = dict(
            Article.objects.filter(pk__in=[hit.id for hit in page.results]).values_list(
                "id", "body"
            )
        )
    site = settings.SITE_URL.rstrip("/")
    return [
        {
            "title": hit.title,
            "url": hit.url,
            "absolute_url": f"{site}{hit.url}",
            "summary": hit.summary,
            **({"body": bodies.get(hit.id, "")} if audience == "staff" else {}),
        }
        for hit in page.results
    ]


def _search(
    query: str,
    *,
    audience: str,
    language: str | None,
    limit: int,
    offset: int,
    light: bool = False,
) -> SearchPage:
    """``light``: first page only, no totals and no snippets (suggestions)."""
    query = " ".join((query or "").split())[:MAX_QUERY_LENGTH]
    limit = max(1, min(int(limit), 50))
    offset = 0 if light else max(0, int(offset))
    if not WORD_RE.search(query):
        return SearchPage(query=query, limit=limit, offset=offset)
    # Also checks the audience, for both back ends.
    base = articles_visible(audience=audience, language=language)
    if connection.vendor == "postgresql":
        return search_postgres(
            query, audience=audience, language=language, limit=limit, offset=offset, light=light
        )
    return search_fallback(base, query, limit=limit, offset=offset)
