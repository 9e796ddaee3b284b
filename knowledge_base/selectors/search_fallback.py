"""Search on SQLite (and any database without full-text search): tokenise, take the
Russian Snowball stems (as PostgreSQL's ``russian`` configuration does), match any word
in title, summary or text, title hits first; close title words stand in for typos."""

import difflib
import html
import re

import snowballstemmer
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils.safestring import SafeString, mark_safe

from knowledge_base.selectors.results import (
    STOP_WORDS,
    WORD_RE,
    SearchPage,
    hit_from_row,
    words,
)

SNIPPET_CHARS = 220
# Stems are matched as substrings (LIKE): shorter ones would match unrelated words.
MIN_STEM_LETTERS = 3
_RUSSIAN = snowballstemmer.stemmer("russian")


def stem(word: str) -> str:
    """The Russian Snowball stem of a word (Latin words pass through unchanged)."""
    word = word.lower().replace("ё", "е")
    stemmed = _RUSSIAN.stemWord(word)
    return stemmed if len(stemmed) >= MIN_STEM_LETTERS else word


def search_fallback(base: QuerySet, query: str, *, limit: int, offset: int) -> SearchPage:
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


def _stems(query: str) -> list[str]:
    stems: list[str] = []
    for word in words(query):
        if word in STOP_WORDS or len(word) < 2:
            continue
        s = stem(word)
        if s not in stems:
            stems.append(s)
    return stems[:10]


def _variants(s: str) -> set[str]:
    # SQLite's LIKE folds ASCII case only: try the usual spellings of a Cyrillic stem.
    return {s, s.capitalize(), s.upper()}


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
    rows = ranked.values(
        "id",
        "title",
        "slug",
        "summary",
        "body_text",
        "audience",
        "rank",
        category_name=Coalesce("category__name", Value("")),
        category_slug=Coalesce("category__slug", Value("")),
    )[offset : offset + limit]
    hits = [
        hit_from_row(row, _snippet_python(row["body_text"] or row["summary"], stems))
        for row in rows
    ]
    return SearchPage(
        query=query, results=hits, total=total, limit=limit, offset=offset, method=method
    )


def _fallback_correct_typos(base: QuerySet, stems: list[str], max_titles: int = 5000) -> list:
    """Replace each stem with the closest stem of a visible title word (typos)."""
    vocabulary: set[str] = set()
    for title in base.values_list("title", flat=True)[:max_titles]:
        vocabulary.update(stem(w) for w in WORD_RE.findall(title.lower()) if len(w) > 2)
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
