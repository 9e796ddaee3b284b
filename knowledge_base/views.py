"""Public knowledge-base pages and the suggestion endpoint: thin adapters over the
selectors and services."""

import hashlib
import logging
import uuid
from urllib.parse import urlencode

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from helpdesk.client_address import address_key, client_address_from_request
from knowledge_base import selectors, services

logger = logging.getLogger(__name__)

PAGE_SIZE = 10
SUGGEST_LIMIT = 5
SUGGEST_CACHE_SECONDS = 60
VISITOR_COOKIE = "kb_visitor"
VISITOR_COOKIE_SALT = "knowledge_base.visitor"
VISITOR_COOKIE_AGE = 60 * 60 * 24 * 365
# The public appeal form (DESIGN.md public contract); it reads ?q= into the subject.
APPEAL_PATH = "/appeal/"


def _audience(request: HttpRequest) -> str:
    return "staff" if request.user.is_authenticated and request.user.is_staff else "public"


def _appeal_url(text: str) -> str:
    return f"{APPEAL_PATH}?{urlencode({'q': text[:200]})}" if text else APPEAL_PATH


def _visitor_id(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(VISITOR_COOKIE, default=None, salt=VISITOR_COOKIE_SALT)


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    audience = _audience(request)
    return render(
        request,
        "knowledge_base/index.html",
        {
            "categories": selectors.categories_with_articles(audience=audience),
            "popular": selectors.articles_popular(audience=audience),
        },
    )


@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_visible(slug=slug, audience=_audience(request))
    if article is None:
        raise Http404
    services.article_register_view(article=article)
    visitor_id = _visitor_id(request)
    vote = None
    if visitor_id:
        vote = article.votes.filter(
            visitor_key=services.visitor_key_hash(visitor_id=visitor_id)
        ).first()
    return render(
        request,
        "knowledge_base/article.html",
        {
            "article": article,
            "related": selectors.article_related(article=article, audience=_audience(request)),
            "vote": vote,
            "voted": request.GET.get("voted") == "1",
            "appeal_url": _appeal_url(request.GET.get("q", "") or article.title),
        },
    )


@require_POST
def article_vote(request: HttpRequest, slug: str) -> HttpResponse:
    article = selectors.article_get_visible(slug=slug, audience=_audience(request))
    if article is None:
        raise Http404
    answer = request.POST.get("helpful")
    if answer not in ("yes", "no"):
        return redirect(article.get_absolute_url())
    visitor_id = _visitor_id(request) or uuid.uuid4().hex
    services.article_vote(
        article=article,
        visitor_key=services.visitor_key_hash(visitor_id=visitor_id),
        helpful=answer == "yes",
        address_key=address_key(client_address_from_request(request)),
    )
    response = redirect(f"{article.get_absolute_url()}?voted=1#helpful")
    response.set_signed_cookie(
        VISITOR_COOKIE,
        visitor_id,
        salt=VISITOR_COOKIE_SALT,
        max_age=VISITOR_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    try:
        page_number = max(1, min(int(request.GET.get("page", "1")), 1000))
    except ValueError:
        page_number = 1
    page = selectors.articles_search(
        query,
        audience=_audience(request),
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "knowledge_base/search.html",
        {
            "query": query,
            "page": page,
            "query_param": urlencode({"q": query}),
            "previous_url": f"?{urlencode({'q': query, 'page': page_number - 1})}",
            "next_url": f"?{urlencode({'q': query, 'page': page_number + 1})}",
            "appeal_url": _appeal_url(query),
        },
    )


@require_GET
def category_detail(request: HttpRequest, slug: str) -> HttpResponse:
    category = selectors.category_get(slug=slug)
    if category is None:
        raise Http404
    articles = selectors.category_articles(category=category, audience=_audience(request))
    return render(
        request,
        "knowledge_base/category.html",
        {"category": category, "articles": articles},
    )


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """``{"results": [{"title", "url", "summary"}]}``: published public articles only,
    whoever asks, so responses are the same for everyone and may be cached."""
    query = " ".join(request.GET.get("q", "").split())[: selectors.MAX_QUERY_LENGTH]
    results: list[dict] = []
    if len(query) >= 3:
        key = "kb:suggest:" + hashlib.sha256(query.lower().encode()).hexdigest()
        results = _cache_get(key)
        if results is None:
            results = [
                {"title": item["title"], "url": item["url"], "summary": item["summary"]}
                for item in selectors.articles_suggest(
                    query, audience="public", limit=SUGGEST_LIMIT
                )
            ]
            _cache_set(key, results)
    response = JsonResponse({"results": results}, json_dumps_params={"ensure_ascii": False})
    patch_cache_control(response, public=True, max_age=SUGGEST_CACHE_SECONDS)
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


# Suggestions are a convenience: a cache outage (Redis down) must not break the form.
def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - any cache backend error
        logger.warning("knowledge base suggestion cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, value: list) -> None:
    try:
        cache.set(key, value, SUGGEST_CACHE_SECONDS)
    except Exception:  # noqa: BLE001 - any cache backend error
        logger.warning("knowledge base suggestion cache unavailable", exc_info=True)
