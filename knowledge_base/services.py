"""Writes on the knowledge base: saving articles (render, sanitise, index), publishing,
view counting and "was this helpful?" votes."""

import hashlib
import html
import re
from collections.abc import Iterable

import markdown
import nh3
from django.contrib.postgres.search import SearchVector
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Replace
from django.utils import timezone

from knowledge_base.models import Article, ArticleHead, ArticleVote, SearchTerm

SEARCH_CONFIG = "russian"

# Tags and attributes an editor's Markdown may produce; everything else is stripped.
ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "img",
    "kbd", "dl", "dt", "dd", "sup", "sub",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"\s+")
_TERM_RE = re.compile(r"[^\W\d_]{3,64}")


def search_normalise(text: str) -> str:
    """What the index and the queries both see: "ё" spelt "е" (few people type "ё",
    and the Snowball stemmer treats the two as different letters)."""
    return text.replace("ё", "е").replace("Ё", "Е")


def title_terms(title: str) -> set[str]:
    return {search_normalise(w.lower()) for w in _TERM_RE.findall(title)}


def markdown_render(*, text: str) -> str:
    """Markdown → sanitised HTML. Headings start at h2: the page title is the h1."""
    raw = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    raw = re.sub(r"<(/?)h1\b", r"<\1h2", raw)
    return nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(*, html_text: str) -> str:
    # Block ends become spaces so words of adjacent list items never glue together.
    spaced = re.sub(r"</(p|li|h\d|td|th|pre|blockquote|dd|dt)>|<br\s*/?>", " ", html_text)
    return _SPACE_RE.sub(" ", html.unescape(_TAG_RE.sub("", spaced))).strip()


def _render_into(article: Article) -> None:
    article.body_html = markdown_render(text=article.body)
    article.body_text = html_to_text(html_text=article.body_html)
    if article.status == Article.Status.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()


def _head_vector(title, summary) -> SearchVector:
    return SearchVector(title, config=SEARCH_CONFIG, weight="A") + SearchVector(
        summary, config=SEARCH_CONFIG, weight="B"
    )


def _full_vector(title, summary, body_text) -> SearchVector:
    return _head_vector(title, summary) + SearchVector(body_text, config=SEARCH_CONFIG, weight="C")


def _normalised_values(article: Article) -> tuple[Value, Value, Value]:
    return (
        Value(search_normalise(article.title)),
        Value(search_normalise(article.summary)),
        Value(search_normalise(article.body_text)),
    )


def _set_vectors(article: Article) -> None:
    """Put the full vector on the instance as an SQL expression over the text *values*,
    so it is computed inside the same INSERT/UPDATE (one row version, no second write).

    The ``russian`` configuration stems Cyrillic words with the Russian Snowball stemmer
    and ASCII words with the English one, so English articles are indexed sensibly too.
    """
    if connection.vendor == "postgresql":
        article.search_vector = _full_vector(*_normalised_values(article))


def _forget_vectors(article: Article) -> None:
    # After save the attribute still holds the expression; drop it so a later access
    # loads the stored value instead (deferred field).
    article.__dict__.pop("search_vector", None)


def _heads_upsert(articles: Iterable[Article]) -> None:
    """Write the search rows of saved articles in one statement: a new row gets the
    article's view count; an existing one keeps its own (views are counted on both
    rows as they happen, and the instance may be older than the last view)."""
    postgres = connection.vendor == "postgresql"
    rows = [
        ArticleHead(
            article_id=article.pk,
            status=article.status,
            audience=article.audience,
            language=article.language,
            view_count=article.view_count,
            search_head=_head_vector(*_normalised_values(article)[:2]) if postgres else None,
        )
        for article in articles
    ]
    ArticleHead.objects.bulk_create(
        rows,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["article"],
        update_fields=["status", "audience", "language", "search_head"],
    )


@transaction.atomic
def articles_reindex(*, ids: Iterable[int] | None = None) -> int:
    """Recompute the search vectors and search rows from the stored articles (all of
    them when ``ids`` is None): for text changed behind the services' back, or a new
    configuration. Returns how many articles were reindexed."""
    qs = Article.objects.all() if ids is None else Article.objects.filter(pk__in=list(ids))
    ArticleHead.objects.bulk_create(
        [
            ArticleHead(article_id=pk, status=status, audience=audience, language=language)
            for pk, status, audience, language in qs.values_list(
                "pk", "status", "audience", "language"
            )
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )
    source = Article.objects.filter(pk=OuterRef("article_id"))
    heads = ArticleHead.objects.filter(article__in=qs)
    updates = {
        name: Subquery(source.values(name)[:1])
        for name in ("status", "audience", "language", "view_count")
    }
    if connection.vendor == "postgresql":
        columns = [_normalised_column(c) for c in ("title", "summary", "body_text")]
        qs.update(search_vector=_full_vector(*columns))
        head = _head_vector(*(_normalised_column(c) for c in ("title", "summary")))
        updates["search_head"] = Subquery(source.annotate(v=head).values("v")[:1])
    return heads.update(**updates)


def _normalised_column(name: str) -> Replace:
    return Replace(
        Replace(F(name), Value("ё"), Value("е"), output_field=TextField()),
        Value("Ё"),
        Value("Е"),
        output_field=TextField(),
    )


def search_terms_add(*, titles: Iterable[str]) -> None:
    """Remember the words of these titles for typo correction (existing ones kept)."""
    words: set[str] = set()
    for title in titles:
        words |= title_terms(title)
    SearchTerm.objects.bulk_create(
        [SearchTerm(word=w) for w in sorted(words)], ignore_conflicts=True, batch_size=1000
    )


@transaction.atomic
def article_save(*, article: Article) -> Article:
    """Create or update an article: render + sanitise the Markdown and keep the search
    vectors in step. Every write of article text goes through here (admin, seed)."""
    _render_into(article)
    _set_vectors(article)
    article.save()
    _forget_vectors(article)
    _heads_upsert([article])
    search_terms_add(titles=[article.title])
    return article


@transaction.atomic
def articles_bulk_create(*, articles: list[Article], batch_size: int = 500) -> list[Article]:
    """Seeding path: render each article and insert in batches; the vectors are
    computed by the INSERTs themselves."""
    for article in articles:
        _render_into(article)
        _set_vectors(article)
    created = Article.objects.bulk_create(articles, batch_size=batch_size)
    for article in created:
        _forget_vectors(article)
    _heads_upsert(created)
    search_terms_add(titles=[a.title for a in created])
    return created


@transaction.atomic
def article_publish(*, article: Article) -> Article:
    article.status = Article.Status.PUBLISHED
    if article.published_at is None:
        article.published_at = timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    ArticleHead.objects.filter(article_id=article.pk).update(status=article.status)
    return article


@transaction.atomic
def article_unpublish(*, article: Article) -> Article:
    article.status = Article.Status.DRAFT
    article.save(update_fields=["status", "updated_at"])
    ArticleHead.objects.filter(article_id=article.pk).update(status=article.status)
    return article


@transaction.atomic
def articles_set_status(*, ids: Iterable[int], status: str) -> int:
    """Admin bulk action: publish/unpublish many at once; returns how many changed."""
    ids = list(ids)
    now = timezone.now()
    qs = Article.objects.filter(pk__in=ids).exclude(status=status)
    changed = qs.update(status=status, updated_at=now)
    if status == Article.Status.PUBLISHED:
        Article.objects.filter(pk__in=ids, published_at__isnull=True).update(published_at=now)
    ArticleHead.objects.filter(article_id__in=ids).exclude(status=status).update(status=status)
    return changed


@transaction.atomic
def article_register_view(*, article: Article) -> None:
    """Count a page view atomically (no read-modify-write race), on the article and on
    its search row (which orders text-only hits by popularity)."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)
    ArticleHead.objects.filter(article_id=article.pk).update(view_count=F("view_count") + 1)


def visitor_key_hash(*, visitor_id: str) -> str:
    return hashlib.sha256(f"kb-visitor:{visitor_id}".encode()).hexdigest()


# A network address casts one new vote per article per window: clearing the cookie
# (a new visitor id) must not be a way to stuff the counters. Kept in the cache, not the
# database: it is a throttle, and a shared address (an office's NAT) gets one vote a day
# rather than one for ever.
VOTE_ADDRESS_WINDOW_SECONDS = 60 * 60 * 24


def _vote_claim_address(*, article: Article, address_key: str) -> bool:
    """True once per article and address per window (atomic: cache.add)."""
    return cache.add(f"kb_vote:{article.pk}:{address_key}", 1, timeout=VOTE_ADDRESS_WINDOW_SECONDS)


@transaction.atomic
def article_vote(
    *, article: Article, visitor_key: str, helpful: bool, address_key: str | None = None
) -> ArticleVote | None:
    """Record a visitor's answer: one vote per visitor per article, and one new vote
    per article per client address (`address_key`) per day.

    Voting again with the same answer changes nothing; changing one's mind moves the
    vote from one counter to the other (allowed whatever the address). Counters are
    updated with F() expressions under the vote row's lock, so concurrent clicks cannot
    double-count. Returns None when the address has already voted: nothing is counted.
    """
    vote = (
        ArticleVote.objects.select_for_update()
        .filter(article=article, visitor_key=visitor_key)
        .first()
    )
    if vote is None:
        if address_key is not None and not _vote_claim_address(
            article=article, address_key=address_key
        ):
            return None
        try:
            with transaction.atomic():
                vote = ArticleVote.objects.create(
                    article=article, visitor_key=visitor_key, helpful=helpful
                )
        except IntegrityError:
            # A concurrent first click of the same visitor won the race: count once.
            return ArticleVote.objects.get(article=article, visitor_key=visitor_key)
        counter = "helpful_yes" if helpful else "helpful_no"
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + Value(1)})
        return vote
    if vote.helpful == helpful:
        return vote
    vote.helpful = helpful
    vote.save(update_fields=["helpful", "updated_at"])
    up, down = ("helpful_yes", "helpful_no") if helpful else ("helpful_no", "helpful_yes")
    Article.objects.filter(pk=article.pk).update(**{up: F(up) + 1, down: F(down) - 1})
    return vote
