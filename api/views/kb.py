"""The knowledge base: public, no token needed (published public articles). A staff
session, or a token with `kb:read`, also sees staff-only articles."""

import base64

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from api import serializers as s
from api.access import api_has_scope
from api.pagination import SlugCursorPagination
from knowledge_base import selectors
from knowledge_base.models import Category

SEARCH_PAGE_SIZE = 10
SEARCH_MAX_OFFSET = 1000


def _audience(request) -> str:
    user = request.user
    if user and user.is_authenticated and user.is_staff and api_has_scope(request, "kb:read"):
        return "staff"
    return "public"


class KbView(GenericAPIView):
    permission_classes = [AllowAny]
    pagination_class = SlugCursorPagination


class CategoryListView(KbView):
    serializer_class = s.CategorySerializer

    @extend_schema(
        summary="Knowledge base categories / Разделы базы знаний",
        auth=[],
        operation_id="kb_categories_list",
        responses=s.CategorySerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(Category.objects.all())
        return self.get_paginated_response(s.CategorySerializer(page, many=True).data)


class ArticleListView(KbView):
    serializer_class = s.ArticleSerializer

    @extend_schema(
        summary="Published articles / Статьи",
        operation_id="kb_articles_list",
        responses=s.ArticleSerializer(many=True),
        parameters=[OpenApiParameter("category", str, description="A category slug.")],
        auth=[],
    )
    def get(self, request):
        queryset = selectors.articles_visible(audience=_audience(request)).select_related(
            "category"
        )
        category = request.query_params.get("category")
        if category:
            queryset = queryset.filter(category__slug=category)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ArticleSerializer(page, many=True).data)


class ArticleDetailView(KbView):
    serializer_class = s.ArticleDetailSerializer
    pagination_class = None

    @extend_schema(summary="An article / Статья", auth=[], operation_id="kb_articles_retrieve")
    def get(self, request, slug: str):
        article = selectors.article_get_visible(slug=slug, audience=_audience(request))
        if article is None:
            raise Http404
        return Response(s.ArticleDetailSerializer(article).data)


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o={offset}".encode()).decode().rstrip("=")


def _decode_offset(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset = int(raw.removeprefix("o="))
    except (ValueError, UnicodeDecodeError):
        raise ValidationError({"cursor": [_("Invalid cursor.")]}) from None
    if not 0 <= offset <= SEARCH_MAX_OFFSET:
        raise ValidationError({"cursor": [_("Invalid cursor.")]})
    return offset


class ArticleSearchView(KbView):
    serializer_class = s.SearchHitSerializer
    pagination_class = None

    @extend_schema(
        summary="Search the knowledge base / Поиск по базе знаний",
        operation_id="kb_search",
        parameters=[
            OpenApiParameter(
                "q", str, required=True, pattern=r"\S", description="At least one letter."
            ),
            OpenApiParameter("cursor", str, description="From `next`."),
        ],
        responses={
            200: inline_serializer(
                "ArticleSearchPage",
                {
                    "next": serializers.URLField(allow_null=True),
                    "results": s.SearchHitSerializer(many=True),
                },
            )
        },
        description="The site's search (ranked, Russian stemming on PostgreSQL, typo "
        "tolerant). Best first; the cursor is opaque.",
        auth=[],
    )
    def get(self, request):
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ValidationError({"q": [_("Type what to search for.")]})
        cursor = request.query_params.get("cursor")
        offset = _decode_offset(cursor) if cursor else 0
        page = selectors.articles_search(
            query[: selectors.MAX_QUERY_LENGTH],
            audience=_audience(request),
            limit=SEARCH_PAGE_SIZE,
            offset=offset,
        )
        next_url = None
        if page.has_next and offset + SEARCH_PAGE_SIZE <= SEARCH_MAX_OFFSET:
            next_url = replace_query_param(
                request.build_absolute_uri(), "cursor", _encode_offset(offset + SEARCH_PAGE_SIZE)
            )
        hits = [
            {
                "id": hit.id,
                "slug": hit.slug,
                "title": hit.title,
                "summary": hit.summary,
                "snippet": str(hit.snippet),
                "category_slug": hit.category_slug,
                "category_name": hit.category_name,
            }
            for hit in page.results
        ]
        return Response({"next": next_url, "results": s.SearchHitSerializer(hits, many=True).data})
