"""Reads on the knowledge base. ``articles_search`` is the one search every caller uses
(public search page, suggestions on the appeal form, the operator's ticket page)."""

import dataclasses
import difflib
import html
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    TrigramDistance,
)
from django.db import connection
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString, mark_safe

from knowledge_base.models import Article, Category, SearchTerm
from knowledge_base.services import SEARCH_CONFIG, search_normalise

AUDIENCES = ("public", "staff")
MAX_QUERY_LENGTH = 200
SNIPPET_CHARS = 220
# Counting stops here: a broad query reports "more than N" instead of scanning on.
COUNT_CAP = 500
# Private-use code points mark highlights inside database headlines; the text around
# them is HTML-escaped before they become <mark> tags, so article text and queries
# can never inject markup.
_SEL_START, _SEL_STOP = "\ue000", "\ue001"
_WORD_RE = re.compile(r"\w+", re.UNICODE)

# Words too common to search by on SQLite (PostgreSQL's ``russian`` config has its own).
_STOP_WORDS_TEXT = (
    "а без в во вы где да для до его её если есть же за и из или им их к как ко когда "
    "ли мне мой может мы на над не нет ни но о об от по под при про с со так то только "
    "у уже что чтобы это я the a an and or of to in on for is are how what do i my"
)
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
# Common Russian inflection endings, longest first (a crude stand-in for Snowball).
_RU_ENDINGS_TEXT = (
    "иями ями ами ией ия ие ий ей ой ый ая яя ое ее ые ие ого его ому ему ыми ими ом ем "
    "ам ям ах ях ую юю ов ев ью ья ьи ьё ться тся ешь ишь ет ит ут ют ат ят ем им ете ите "
    "ла ло ли ть ти ал ил ел ыл а я о е ы и у ю ь й"
)
_RU_ENDINGS = sorted(set(_RU_ENDINGS_TEXT.split()), key=len, reverse=True)


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    slug: str
    summary: str
    snippet: SafeString
    category_name: str
    category_slug: str
    audience: str
    rank: float

    @property
    def url(self) -> str:
        return f"{_kb_prefix()}{self.slug}/"


@dataclass(frozen=True)
class SearchPage:
    query: str
    results: list[SearchHit] = field(default_factory=list)
    total: int = 0
    limit: int = 10
    offset: int = 0
    # How the results were found: "fulltext", "any-word", "typo" or "none".
    method: str = "none"
    # True when counting stopped at a cap: "more than ``total``".
    total_is_lower_bound: bool = False

    @property
    def has_next(self) -> bool:
        shown = self.offset + len(self.results)
        return shown < self.total or (self.total_is_lower_bound and len(self.results) == self.limit)

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1 if self.limit else 1

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit else 1


def _kb_prefix() -> str:
    from django.urls import reverse

    return reverse("knowledge_base:index")


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
    if not _WORD_RE.search(query):
        return SearchPage(query=query, limit=limit, offset=offset)
    base = articles_visible(audience=audience, language=language)
    if connection.vendor == "postgresql":
        return _search_postgres(base, query, limit=limit, offset=offset, light=light)
    return _search_fallback(base, query, limit=limit, offset=offset)


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


# --- PostgreSQL ------------------------------------------------------------------


def _search_postgres(
    base: QuerySet, query: str, *, limit: int, offset: int, light: bool, corrected: bool = False
) -> SearchPage:
    # Single characters and bare numbers would match nearly everything when any word
    # may match.
    text = search_normalise(query)
    words = [w for w in _words(text) if len(w) > 1 and not w.isdigit()]
    attempts = [("fulltext", SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch"))]
    any_word = None
    if len(words) > 1:
        # Only \w+ tokens reach the raw tsquery syntax: nothing the user typed can
        # break it.
        any_word = SearchQuery(" | ".join(words), config=SEARCH_CONFIG, search_type="raw")
        attempts.append(("any-word", any_word))
    for method, search_query in attempts:
        # Text-only hits of a multi-word query: those with more of the words in the
        # title/summary first ("забыл пароль" → "Как восстановить пароль").
        partial = any_word if method == "fulltext" else None
        if light:
            page = _fulltext_first_rows(
                base, search_query, query, limit=limit, method=method, partial=partial
            )
        else:
            page = _fulltext_page(
                base,
                search_query,
                query,
                limit=limit,
                offset=offset,
                method=method,
                partial=partial,
            )
        if page.total:
            return dataclasses.replace(page, method="typo") if corrected else page
    if corrected:
        return SearchPage(query=query, limit=limit, offset=offset)
    fixed = _correct_typos_postgres(text)
    if fixed is None:
        return SearchPage(query=query, limit=limit, offset=offset)
    page = _search_postgres(base, fixed, limit=limit, offset=offset, light=light, corrected=True)
    return dataclasses.replace(page, query=query)


def _correct_typos_postgres(text: str) -> str | None:
    """Replace each word by the most similar title word (trigram similarity, indexed);
    None when no word changes."""
    changed = False
    out = []
    for word in _words(text)[:8]:
        if len(word) < 3 or word.isdigit() or word in _STOP_WORDS:
            out.append(word)
            continue
        best = (
            SearchTerm.objects.filter(word__trigram_similar=word)
            .annotate(distance=TrigramDistance("word", Value(word)))
            .order_by("distance", "word")
            .values_list("word", flat=True)
            .first()
        )
        if best and best != word:
            changed = True
            out.append(best)
        else:
            out.append(word)
    return " ".join(out) if changed else None


def _fulltext_page(
    base: QuerySet,
    search_query: SearchQuery,
    query: str,
    *,
    limit: int,
    offset: int,
    method: str,
    partial: SearchQuery | None = None,
) -> SearchPage:
    """Title/summary hits first, ranked (title A over summary B) on the small head
    vector; then hits in the text only, most read first.

    Ranking every match on the full vector costs a de-TOAST per matching article, which
    a broad query ("пароль") turns into tens of thousands; the head vector lives in the
    row, and text-only hits are taken in ``view_count`` order, so a page costs about the
    same whatever the number of matches. The total is counted up to ``COUNT_CAP``.
    """
    total = _capped_count(base.filter(search_vector=search_query), COUNT_CAP)
    if not total:
        return SearchPage(query=query, limit=limit, offset=offset)
    head, body_only = _head_and_body_only(base, search_query)
    # Where the title/summary hits end is only needed past the first page.
    head_total = _capped_count(head, COUNT_CAP) if offset else 0
    rows: list[dict] = []
    if offset == 0 or offset < head_total:
        rows = list(_values(_ranked_head(head, search_query))[offset : offset + limit])
    if len(rows) < limit:
        start = max(0, offset - head_total) if offset else 0
        rows += list(_values(_text_only(body_only, partial))[start : start + limit - len(rows)])
    return SearchPage(
        query=query,
        results=_with_headlines(rows, search_query),
        total=max(total, offset + len(rows)),
        limit=limit,
        offset=offset,
        method=method,
        total_is_lower_bound=total >= COUNT_CAP,
    )


def _fulltext_first_rows(
    base: QuerySet,
    search_query: SearchQuery,
    query: str,
    *,
    limit: int,
    method: str,
    partial: SearchQuery | None = None,
) -> SearchPage:
    """The first ``limit`` hits in the same order as ``_fulltext_page``, nothing else:
    at most two short queries."""
    head, body_only = _head_and_body_only(base, search_query)
    rows = list(_values(_ranked_head(head, search_query))[:limit])
    if len(rows) < limit:
        rows += list(_values(_text_only(body_only, partial))[: limit - len(rows)])
    hits = [_hit(row, mark_safe("")) for row in rows]  # noqa: S308 - empty
    return SearchPage(query=query, results=hits, total=len(hits), limit=limit, method=method)


def _head_and_body_only(base: QuerySet, search_query: SearchQuery) -> tuple[QuerySet, QuerySet]:
    head = base.filter(search_head=search_query)
    body_only = base.filter(search_vector=search_query).exclude(search_head=search_query)
    return head, body_only


def _ranked_head(head: QuerySet, search_query: SearchQuery) -> QuerySet:
    return head.annotate(rank=SearchRank(F("search_head"), search_query)).order_by(
        "-rank", "-view_count", "pk"
    )


def _text_only(body_only: QuerySet, partial: SearchQuery | None) -> QuerySet:
    """Hits in the text only: by how many query words the title/summary has (multi-word
    queries), then most read first. Both read only the small in-row head vector."""
    if partial is None:
        ranked = body_only.annotate(rank=Value(0.0, output_field=FloatField()))
    else:
        ranked = body_only.annotate(rank=SearchRank(F("search_head"), partial))
    return ranked.order_by("-rank", "-view_count", "pk")


def _capped_count(qs: QuerySet, cap: int) -> int:
    # COUNT over a LIMITed subquery: stops after ``cap`` matches.
    return qs.order_by()[:cap].count()


def _with_headlines(rows: list[dict], search_query: SearchQuery) -> list[SearchHit]:
    # Headlines only for the rows on this page: ts_headline re-parses the text, so
    # running it over every match would dominate the query time.
    if not rows:
        return []
    headlines = dict(
        Article.objects.filter(pk__in=[row["id"] for row in rows])
        .order_by()
        .annotate(
            headline=SearchHeadline(
                "body_text",
                search_query,
                config=SEARCH_CONFIG,
                start_sel=_SEL_START,
                stop_sel=_SEL_STOP,
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        )
        .values_list("id", "headline")
    )
    return [_hit(row, _headline_to_html(headlines.get(row["id"]) or "")) for row in rows]


def _headline_to_html(headline: str) -> SafeString:
    escaped = html.escape(headline, quote=False)
    return mark_safe(  # noqa: S308 - text escaped above; only our own <mark> tags added
        escaped.replace(_SEL_START, "<mark>").replace(_SEL_STOP, "</mark>")
    )


def _values(qs: QuerySet) -> QuerySet:
    return qs.values(
        "id",
        "title",
        "slug",
        "summary",
        "body_text",
        "audience",
        "rank",
        category_name=Coalesce("category__name", Value("")),
        category_slug=Coalesce("category__slug", Value("")),
    )


def _hit(row: dict, snippet: SafeString) -> SearchHit:
    return SearchHit(
        id=row["id"],
        title=row["title"],
        slug=row["slug"],
        summary=row["summary"],
        snippet=snippet,
        category_name=row["category_name"],
        category_slug=row["category_slug"],
        audience=row["audience"],
        rank=float(row["rank"] or 0),
    )


# --- SQLite (and any other database): the simple fallback -------------------------


def _words(query: str) -> list[str]:
    return _WORD_RE.findall(query.lower())


def stem(word: str) -> str:
    """Strip one common Russian ending, keeping at least four letters of the word."""
    word = word.lower().replace("ё", "е")
    for ending in _RU_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def _stems(query: str) -> list[str]:
    stems: list[str] = []
    for word in _words(query):
        if word in _STOP_WORDS or len(word) < 2:
            continue
        s = stem(word)
        if s not in stems:
            stems.append(s)
    return stems[:10]


def _variants(s: str) -> set[str]:
    # SQLite's LIKE folds ASCII case only: try the usual spellings of a Cyrillic stem.
    return {s, s.capitalize(), s.upper()}


def _search_fallback(base: QuerySet, query: str, *, limit: int, offset: int) -> SearchPage:
    stems = _stems(query)
    if not stems:
        return SearchPage(query=query, limit=limit, offset=offset)
    page = _fallback_page(base, query, stems, limit=limit, offset=offset, method="fulltext")
    if page.total:
        return page
    corrected = _fallback_correct_typos(base, stems)
    if corrected == stems:
        return page
    return _fallback_page(base, query, corrected, limit=limit, offset=offset, method="typo")


def _fallback_page(
    base: QuerySet, query: str, stems: list[str], *, limit: int, offset: int, method: str
) -> SearchPage:
    any_match = Q()
    score = Value(0, output_field=IntegerField())
    for s in stems:
        in_title, in_summary, in_body = Q(), Q(), Q()
        for v in _variants(s):
            in_title |= Q(title__contains=v)
            in_summary |= Q(summary__contains=v)
            in_body |= Q(body_text__contains=v)
        any_match |= in_title | in_summary | in_body
        # Weights mirror PostgreSQL's A/B/C: a title hit outranks any body hits.
        score = score + Case(
            When(in_title, then=Value(100)),
            When(in_summary, then=Value(10)),
            When(in_body, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    matched = base.filter(any_match)
    total = matched.count()
    if not total:
        return SearchPage(query=query, limit=limit, offset=offset)
    ranked = matched.annotate(rank=score).order_by("-rank", "-view_count", "pk")
    rows = list(_values(ranked)[offset : offset + limit])
    hits = [_hit(row, _snippet_python(row["body_text"] or row["summary"], stems)) for row in rows]
    return SearchPage(
        query=query, results=hits, total=total, limit=limit, offset=offset, method=method
    )


def _fallback_correct_typos(base: QuerySet, stems: list[str], max_titles: int = 5000) -> list:
    """Replace each stem with the closest stem of a visible title word (typos)."""
    vocabulary: set[str] = set()
    for title in base.values_list("title", flat=True)[:max_titles]:
        vocabulary.update(stem(w) for w in _WORD_RE.findall(title.lower()) if len(w) > 2)
    corrected = []
    for s in stems:
        close = difflib.get_close_matches(s, vocabulary, n=1, cutoff=0.7)
        corrected.append(close[0] if close else s)
    return corrected


def _snippet_python(text: str, stems: list[str]) -> SafeString:
    """An HTML-escaped window of ``text`` around the first match, matches in <mark>."""
    text = text or ""
    if not stems:
        return mark_safe(html.escape(_cut(text, 0), quote=False))  # noqa: S308
    pattern = re.compile(
        r"\w*(?:" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + r")\w*",
        re.IGNORECASE,
    )
    first = pattern.search(text)
    start = max(0, first.start() - 60) if first else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    window = _cut(text, start)
    parts, last = [], 0
    for m in pattern.finditer(window):
        parts.append(html.escape(window[last : m.start()], quote=False))
        parts.append(f"<mark>{html.escape(m.group(0), quote=False)}</mark>")
        last = m.end()
    parts.append(html.escape(window[last:], quote=False))
    return mark_safe("".join(parts))  # noqa: S308 - every piece escaped above


def _cut(text: str, start: int) -> str:
    end = start + SNIPPET_CHARS
    window = text[start:end]
    if end < len(text):
        space = window.rfind(" ")
        window = (window[:space] if space > SNIPPET_CHARS // 2 else window) + " …"
    return ("… " if start else "") + window
