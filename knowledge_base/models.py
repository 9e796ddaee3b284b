"""Knowledge base: categories, articles, tags and "was this helpful?" votes.

Knows nothing about tickets (DESIGN.md: tickets read from here, never the other way).
Rendering, search indexing and vote counting live in ``services.py``; reads in
``selectors.py``.
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("knowledge_base:category", kwargs={"slug": self.slug})


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Audience(models.TextChoices):
        PUBLIC = "public", _("Everyone")
        STAFF = "staff", _("Staff only")

    class Language(models.TextChoices):
        RU = "ru", _("Russian")
        EN = "en", _("English")

    title = models.CharField(_("title"), max_length=255)
    slug = models.SlugField(_("slug"), max_length=255, unique=True, allow_unicode=False)
    summary = models.CharField(
        _("summary"),
        max_length=500,
        blank=True,
        help_text=_("One or two sentences shown in lists, search results and suggestions."),
    )
    body = models.TextField(_("text (Markdown)"))
    # Derived from ``body`` by ``article_save``: sanitised HTML for the page and plain
    # text for snippets. Never edited by hand.
    body_html = models.TextField(_("rendered text"), blank=True, editable=False)
    body_text = models.TextField(_("plain text"), blank=True, editable=False)
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="articles",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="articles")
    related = models.ManyToManyField(
        "self", verbose_name=_("related articles"), blank=True, symmetrical=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.PUBLIC
    )
    language = models.CharField(
        _("language"), max_length=8, choices=Language.choices, default=Language.RU
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="kb_articles",
    )
    position = models.PositiveSmallIntegerField(_("position in category"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    helpful_yes = models.PositiveIntegerField(_("helpful"), default=0, editable=False)
    helpful_no = models.PositiveIntegerField(_("not helpful"), default=0, editable=False)
    # PostgreSQL only, written by the services in the same INSERT/UPDATE as the text and
    # GIN-indexed by a vendor-guarded migration; NULL on SQLite (which uses a fallback).
    # The whole article, weighted title A, summary B, text C (``russian`` config). The
    # title + summary part alone lives in ``ArticleHead`` (a narrow row ranked cheaply).
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["position", "title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [
            models.Index(
                fields=["status", "audience", "-view_count"], name="kb_article_popular_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("knowledge_base:article", kwargs={"slug": self.slug})

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.audience == self.Audience.PUBLIC

    @property
    def helpful_percent(self) -> int | None:
        total = self.helpful_yes + self.helpful_no
        return round(100 * self.helpful_yes / total) if total else None


class ArticleHead(models.Model):
    """The narrow search row of an article: the title + summary vector and the columns
    a search filters and orders by, copied from the article by the services.

    Ranking the title/summary hits of a broad word reads one row per hit. Article rows
    are wide (text, HTML, the full vector: about four per 8 kB page); these are about
    thirty-five per page (11 MB for 50,000 articles) and stay in shared buffers: the
    3,600 title hits of "пароль" take 1,300 small pages instead of 3,250 wide ones.
    Every article has one; the services keep it in step, ``articles_reindex`` rebuilds.
    """

    article = models.OneToOneField(
        Article,
        verbose_name=_("article"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="head",
    )
    status = models.CharField(_("status"), max_length=16, choices=Article.Status.choices)
    audience = models.CharField(_("audience"), max_length=16, choices=Article.Audience.choices)
    language = models.CharField(_("language"), max_length=8, choices=Article.Language.choices)
    view_count = models.PositiveIntegerField(_("views"), default=0)
    # Title A + summary B (``russian`` config); NULL on SQLite. GIN-indexed, whole and
    # for public searches, by a vendor-guarded migration.
    search_head = SearchVectorField(null=True)

    class Meta:
        verbose_name = _("article search row")
        verbose_name_plural = _("article search rows")
        indexes = [
            # Hits found only in the text, most read first: walked in this order, so a
            # broad word stops after the first few dozen rows.
            models.Index(
                fields=["-view_count", "article"],
                condition=models.Q(status="published"),
                name="kb_head_popular_idx",
            ),
        ]

    def __str__(self) -> str:
        return str(self.article_id)


class ArticleVote(models.Model):
    """One "was this helpful?" answer per visitor per article (no login needed)."""

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="votes"
    )
    # SHA-256 of the visitor's signed cookie id: the raw id never reaches the database.
    visitor_key = models.CharField(_("visitor"), max_length=64)
    helpful = models.BooleanField(_("helpful"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "visitor_key"], name="kb_vote_one_per_visitor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}: {'+' if self.helpful else '-'}"


class SearchTerm(models.Model):
    """A word seen in article titles (lower case, "ё" as "е"): the vocabulary typos are
    corrected against. Trigram-indexed on PostgreSQL; a few thousand short rows are far
    cheaper to compare with a misspelt word than every title of a large base."""

    word = models.CharField(_("word"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("search term")
        verbose_name_plural = _("search terms")

    def __str__(self) -> str:
        return self.word
