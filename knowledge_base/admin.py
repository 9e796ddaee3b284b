"""Editors' admin: articles with preview, publish/unpublish, statistics; ordered
categories. Saving goes through ``article_save`` (render, sanitise, index)."""

from django.contrib import admin, messages
from django.db.models import F, IntegerField, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from knowledge_base import services
from knowledge_base.models import Article, ArticleVote, Category, Tag


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    ordering = ["position", "name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "category",
        "status",
        "audience",
        "language",
        "view_count",
        "helpful_column",
        "updated_at",
    ]
    list_filter = ["status", "audience", "language", "category"]
    list_select_related = ["category"]
    search_fields = ["title", "summary", "body", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["tags", "related"]
    readonly_fields = [
        "preview",
        "view_count",
        "helpful_yes",
        "helpful_no",
        "created_at",
        "updated_at",
        "published_at",
        "public_link",
    ]
    actions = ["publish_selected", "unpublish_selected"]
    date_hierarchy = "updated_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "slug",
                    "category",
                    "position",
                    "summary",
                    "body",
                    "tags",
                    "related",
                ]
            },
        ),
        (_("Publication"), {"fields": ["status", "audience", "language", "author"]}),
        (_("Preview"), {"fields": ["preview", "public_link"]}),
        (
            _("Statistics"),
            {
                "fields": [
                    "view_count",
                    "helpful_yes",
                    "helpful_no",
                    "created_at",
                    "updated_at",
                    "published_at",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        # "helpful %" sortable in the list: yes / (yes + no), NULL when nobody voted.
        total = F("helpful_yes") + F("helpful_no")
        return (
            super()
            .get_queryset(request)
            .defer("body_html", "body_text", "search_vector")
            .annotate(
                helpful_ratio=Coalesce(
                    F("helpful_yes") * 100 / NullIf(total, 0),
                    Value(-1),
                    output_field=IntegerField(),
                )
            )
        )

    def get_changeform_initial_data(self, request):
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        services.article_save(article=obj)

    @admin.display(description=_("helpful"), ordering="helpful_ratio")
    def helpful_column(self, obj: Article) -> str:
        percent = obj.helpful_percent
        if percent is None:
            return "—"
        return f"{percent}% ({obj.helpful_yes + obj.helpful_no})"

    @admin.display(description=_("Rendered text"))
    def preview(self, obj: Article) -> str:
        if not obj.pk:
            return _("Save the article to see the preview.")
        # body_html was sanitised with nh3 when the article was saved.
        return format_html(
            '<div style="max-width:760px;padding:12px 16px;border:1px solid var(--hairline-color);'
            'border-radius:6px;background:var(--body-bg)">{}</div>',
            mark_safe(obj.body_html),  # noqa: S308
        )

    @admin.display(description=_("Page on the site"))
    def public_link(self, obj: Article) -> str:
        if not obj.pk:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            obj.get_absolute_url(),
            _("Open the article as readers see it"),
        )

    @admin.action(description=_("Publish selected articles"))
    def publish_selected(self, request, queryset):
        changed = services.articles_set_status(
            ids=queryset.values_list("pk", flat=True), status=Article.Status.PUBLISHED
        )
        self.message_user(
            request,
            ngettext("%d article published.", "%d articles published.", changed) % changed,
            messages.SUCCESS,
        )

    @admin.action(description=_("Unpublish selected articles (back to draft)"))
    def unpublish_selected(self, request, queryset):
        changed = services.articles_set_status(
            ids=queryset.values_list("pk", flat=True), status=Article.Status.DRAFT
        )
        self.message_user(
            request,
            ngettext("%d article unpublished.", "%d articles unpublished.", changed) % changed,
            messages.SUCCESS,
        )


@admin.register(ArticleVote)
class ArticleVoteAdmin(admin.ModelAdmin):
    list_display = ["article", "helpful", "created_at"]
    list_filter = ["helpful"]
    list_select_related = ["article"]
    readonly_fields = ["article", "visitor_key", "helpful", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False
