"""Full-text search on PostgreSQL (``russian`` stemming, title A > summary B > text C).

Where the time goes, and why the code is shaped like this (bench/README.md has the
figures): a GIN index finds matching rows, but PostgreSQL still visits the table row
of every match. Article rows are wide (about four per 8 kB page), so ranking the
thousands of title hits of a broad word ("пароль") used to read thousands of pages.
Ranking and ordering therefore happen on ``ArticleHead`` — one narrow row per article
with the title/summary vector, status, audience, language and view count — and the
article rows are read for the page shown only. Hits are ordered in tiers:

1. the title/summary matches the query: by rank (title over summary), then views;
2. only the text matches, and the title/summary has some of the words (multi-word
   queries): by rank on those words, then views;
3. only the text matches: most read first.

Tiers 2 and 3 need the full vector, which stays on the wide article row. When the
query matches fewer than ``COUNT_CAP`` articles, all of them are ranked at once (a
few hundred reads at most). When it matches more, tier 2 checks the best few hundred
candidates only, and tier 3 walks the search rows in view-count order, checking each
article until the page is full: a broad word fills a page after a few dozen rows
instead of reading every match.

The statements are SQL rather than ORM querysets for two reasons: the plan shapes
above (a LIMIT inside a subquery, a check the planner must not turn into a join) are
not expressible in the ORM, and building a queryset costs about a millisecond of
Python per statement, a third of a suggestion's budget.
"""

import dataclasses
import json

from django.contrib.postgres.search import TrigramDistance
from django.db import connection
from django.db.models import Value

from knowledge_base.models import Article, ArticleHead, Category, SearchTerm
from knowledge_base.selectors.results import (
    SEL_START,
    SEL_STOP,
    STOP_WORDS,
    SearchHit,
    SearchPage,
    headline_to_html,
    hit_from_row,
    words,
)
from knowledge_base.services import SEARCH_CONFIG, search_normalise

# Counting stops here: a broad query reports "more than N" instead of scanning on. It
# is also the line between "rank every match" and "walk in popularity order".
COUNT_CAP = 500
# A broad multi-word query ranks text-only hits by the words in their title/summary
# only while the planner expects fewer titles/summaries than this to have one of the
# words: a word in more of them says little about relevance, and ranking them all
# would cost a read each.
RANK_CAP = 5000
HEADLINE_OPTIONS = (
    f"StartSel='{SEL_START}', StopSel='{SEL_STOP}', MaxWords=35, MinWords=15, "
    "MaxFragments=2, FragmentDelimiter=' … '"
)

_ARTICLE = Article._meta.db_table
_HEAD = ArticleHead._meta.db_table
_CATEGORY = Category._meta.db_table

# (article id, rank) in page order.
Ranked = list[tuple[int, float]]


def search_postgres(
    query: str,
    *,
    audience: str,
    language: str | None,
    limit: int,
    offset: int,
    light: bool,
    corrected: bool = False,
) -> SearchPage:
    """Every word must match; when nothing does, any word may; when still nothing,
    each word is replaced by the most similar title word (typos) and it runs again.
    ``light``: first page only, no total and no snippets (suggestions)."""
    # Single characters and bare numbers would match nearly everything when any word
    # may match.
    text = search_normalise(query)
    terms = [w for w in words(text) if len(w) > 1 and not w.isdigit()]
    # Only \w+ tokens reach the raw tsquery syntax: nothing the user typed can break it.
    any_word = " | ".join(terms) if len(terms) > 1 else None
    attempts = [("fulltext", _Search(text, any_word, audience=audience, language=language))]
    if any_word:
        attempts.append(
            ("any-word", _Search(any_word, None, audience=audience, language=language, raw=True))
        )
    for method, search in attempts:
        page = _page(search, query=query, limit=limit, offset=offset, light=light)
        if page.total:
            return dataclasses.replace(page, method="typo" if corrected else method)
    if corrected:
        return SearchPage(query=query, limit=limit, offset=offset)
    fixed = _correct_typos(text)
    if fixed is None:
        return SearchPage(query=query, limit=limit, offset=offset)
    page = search_postgres(
        fixed,
        audience=audience,
        language=language,
        limit=limit,
        offset=offset,
        light=light,
        corrected=True,
    )
    return dataclasses.replace(page, query=query)


def _correct_typos(text: str) -> str | None:
    """Replace each word by the most similar title word (trigram similarity, indexed);
    None when no word changes."""
    changed = False
    out = []
    for word in words(text)[:8]:
        if len(word) < 3 or word.isdigit() or word in STOP_WORDS:
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


class _Search:
    """One attempt as SQL: the query (``tsquery``); for multi-word full-text attempts
    the any-word query (``any_tsquery``: text-only hits with more of the words in the
    title/summary come first, "забыл пароль" → "Как восстановить пароль"); and who may
    see what.

    Table names come from the models and the rest of the SQL is fixed text; every
    value, the user's words included, is a bound parameter.
    """

    def __init__(
        self, text: str, any_word: str | None, *, audience: str, language: str | None, raw=False
    ):
        function = "to_tsquery" if raw else "websearch_to_tsquery"
        self.tsquery = f"{function}(%(config)s::regconfig, %(q)s)"
        self.any_tsquery = "to_tsquery(%(config)s::regconfig, %(p)s)" if any_word else None
        self.params = {
            "config": SEARCH_CONFIG,
            "q": text,
            "p": any_word,
            "published": Article.Status.PUBLISHED,
            "public": Article.Audience.PUBLIC,
            "language": language,
        }
        self.public = audience == "public"
        self.language = language

    def visible(self, alias: str) -> str:
        """Same rules as ``articles_visible``, on the articles or the search rows (the
        literal values match the partial indexes' predicates)."""
        parts = [f"{alias}.status = %(published)s"]
        if self.public:
            parts.append(f"{alias}.audience = %(public)s")
        if self.language:
            parts.append(f"{alias}.language = %(language)s")
        return " AND ".join(parts)

    def fetch(self, sql: str, **params) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, {**self.params, **params})
            return cursor.fetchall()

    def matching_ids(self, cap: int) -> list[int]:
        rows = self.fetch(
            f"SELECT a.id FROM {_ARTICLE} a WHERE {self.visible('a')} "  # noqa: S608
            f"AND a.search_vector @@ {self.tsquery} LIMIT %(cap)s",
            cap=cap,
        )
        return [row[0] for row in rows]

    def head_hits(self, n: int) -> Ranked:
        """Tier 1: the title/summary matches, ranked (title A over summary B)."""
        return self.fetch(
            f"SELECT h.article_id, ts_rank(h.search_head, {self.tsquery}) AS rank "  # noqa: S608
            f"FROM {_HEAD} h WHERE {self.visible('h')} AND h.search_head @@ {self.tsquery} "
            "ORDER BY rank DESC, h.view_count DESC, h.article_id LIMIT %(n)s",
            n=n,
        )

    def all_hits(self, ids: list[int], *, n: int) -> Ranked:
        """Every tier in one ordering, for a few hundred known matches."""
        text_rank = f"ts_rank(h.search_head, {self.any_tsquery})" if self.any_tsquery else "0"
        return self.fetch(
            f"SELECT h.article_id, CASE WHEN h.search_head @@ {self.tsquery} "  # noqa: S608
            f"THEN ts_rank(h.search_head, {self.tsquery}) ELSE {text_rank} END AS rank "
            f"FROM {_HEAD} h WHERE h.article_id = ANY(%(ids)s) "
            f"ORDER BY h.search_head @@ {self.tsquery} DESC, rank DESC, h.view_count DESC, "
            "h.article_id LIMIT %(n)s",
            ids=ids,
            n=n,
        )

    def some_words(self, n: int) -> Ranked | None:
        """Tier 2: text-only hits whose title/summary has some of the words, best first;
        None when too many titles/summaries have one of them (see ``RANK_CAP``).

        The candidates are ranked on the search rows alone, then checked against the
        full text: best first, one read of the wide row each, until ``n`` match — or,
        when the planner expects few of them to match, all at once through the text
        index.
        """
        candidates = (
            f"FROM {_HEAD} h WHERE {self.visible('h')} "
            f"AND h.search_head @@ {self.any_tsquery} AND NOT h.search_head @@ {self.tsquery}"
        )
        if self.estimate(f"SELECT 1 {candidates}") > RANK_CAP:
            return None
        return self.fetch(
            f"SELECT b.article_id, b.rank FROM (SELECT h.article_id, "  # noqa: S608
            f"ts_rank(h.search_head, {self.any_tsquery}) AS rank, h.view_count {candidates} "
            "ORDER BY rank DESC, h.view_count DESC, h.article_id) b "
            f"WHERE EXISTS (SELECT 1 FROM {_ARTICLE} a WHERE a.id = b.article_id "
            f"AND a.search_vector @@ {self.tsquery}) "
            "ORDER BY b.rank DESC, b.view_count DESC, b.article_id LIMIT %(n)s",
            n=n,
        )

    def popular_text_hits(self, rest: str, n: int) -> Ranked:
        """Tier 3: text-only hits whose title/summary has none of ``rest``, most read
        first.

        Only reached when the query matched at least ``COUNT_CAP`` articles, so walking
        the search rows in view-count order meets a match every few dozen rows. The
        text check is a scalar subquery on purpose: the planner cannot turn it into a
        join, so it cannot choose to read every match first (it under-estimates how many
        rows match several related words — they come from the same sentences — and
        would prefer that).
        """
        return self.fetch(
            f"SELECT h.article_id, 0.0 FROM {_HEAD} h WHERE {self.visible('h')} "  # noqa: S608
            f"AND NOT h.search_head @@ {rest} "
            f"AND (SELECT a.search_vector @@ {self.tsquery} FROM {_ARTICLE} a "
            "WHERE a.id = h.article_id) "
            "ORDER BY h.view_count DESC, h.article_id LIMIT %(n)s",
            n=n,
        )

    def estimate(self, sql: str) -> int:
        """The planner's estimate of how many rows ``sql`` returns: planning only, no
        rows read. Good for words (the statistics keep the frequency of the most common
        words of the column)."""
        [(plan,)] = self.fetch(f"EXPLAIN (FORMAT JSON) {sql}")
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def hits(self, ranked: Ranked, *, headlines: bool) -> list[SearchHit]:
        """The article rows of one page (the only wide rows a search reads), in page
        order, with highlighted snippets when ``headlines``: ts_headline re-parses the
        text, so only ever for the rows shown."""
        if not ranked:
            return []
        headline = (
            f", ts_headline(%(config)s::regconfig, a.body_text, {self.tsquery}, %(options)s)"
            if headlines
            else ", ''"
        )
        rows = self.fetch(
            "SELECT a.id, a.title, a.slug, a.summary, a.audience, "  # noqa: S608
            f"COALESCE(c.name, ''), COALESCE(c.slug, ''){headline} "
            f"FROM {_ARTICLE} a JOIN {_CATEGORY} c ON c.id = a.category_id "
            "WHERE a.id = ANY(%(ids)s)",
            ids=[pk for pk, _ in ranked],
            options=HEADLINE_OPTIONS,
        )
        keys = ("id", "title", "slug", "summary", "audience", "category_name", "category_slug")
        by_id = {row[0]: (dict(zip(keys, row, strict=False)), row[-1]) for row in rows}
        return [
            hit_from_row(by_id[pk][0], headline_to_html(by_id[pk][1] or ""), rank)
            for pk, rank in ranked
            if pk in by_id
        ]


def _page(search: _Search, *, query: str, limit: int, offset: int, light: bool) -> SearchPage:
    head_rows: Ranked | None = None
    if light:
        # Suggestions: a broad title word fills the list from the search rows alone.
        head_rows = search.head_hits(limit)
        if len(head_rows) == limit:
            return _light_page(search, head_rows, query=query, limit=limit)
    # Up to COUNT_CAP matches: the total, and how to order the text-only hits.
    ids = search.matching_ids(COUNT_CAP)
    if not ids:
        return SearchPage(query=query, limit=limit, offset=offset)
    broad = len(ids) >= COUNT_CAP
    if broad:
        ranked = _tiers(search, limit=limit, offset=offset, head_rows=head_rows)
    else:
        ranked = search.all_hits(ids, n=offset + limit)[offset:]
    if light:
        return _light_page(search, ranked, query=query, limit=limit)
    return SearchPage(
        query=query,
        results=search.hits(ranked, headlines=True),
        total=max(len(ids), offset + len(ranked)),
        limit=limit,
        offset=offset,
        total_is_lower_bound=broad,
    )


def _light_page(search: _Search, ranked: Ranked, *, query: str, limit: int) -> SearchPage:
    hits = search.hits(ranked, headlines=False)
    return SearchPage(query=query, results=hits, total=len(hits), limit=limit)


def _tiers(search: _Search, *, limit: int, offset: int, head_rows: Ranked | None) -> Ranked:
    """The page of a broad query, tier by tier: each tier is read up to the end of the
    page (``LIMIT offset + limit`` costs what ``OFFSET`` would), and a tier that ends
    before the page does passes the rest of the offset on to the next."""
    out: Ranked = []
    seen = 0  # rows of the tiers read to their end

    def take(rows: Ranked, wanted: int) -> bool:
        nonlocal seen
        out.extend(rows[max(0, offset - seen) :])
        if len(rows) >= wanted:
            return True
        seen += len(rows)
        return False

    wanted = offset + limit
    # ``head_rows``: the caller already read the whole first tier (shorter than a page).
    if take(head_rows if head_rows is not None else search.head_hits(wanted), wanted):
        return out[:limit]
    rest = search.tsquery
    if search.any_tsquery is not None:
        some = search.some_words(offset + limit - seen)
        if some is not None:
            rest = search.any_tsquery
            if take(some, offset + limit - seen):
                return out[:limit]
    take(search.popular_text_hits(rest, offset + limit - seen), offset + limit - seen)
    return out[:limit]
