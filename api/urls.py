"""/api/: version 1 under /api/v1/, the OpenAPI schema and its docs page (both public:
the schema is committed to the repository as docs/openapi.yaml anyway)."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from api.errors import not_found_view
from api.views import directory, kb, phone, tickets

app_name = "api"

v1 = [
    path("tickets/", tickets.TicketListView.as_view(), name="ticket-list"),
    path("tickets/<int:pk>/", tickets.TicketDetailView.as_view(), name="ticket-detail"),
    path(
        "tickets/<int:pk>/messages/",
        tickets.TicketMessageCreateView.as_view(),
        name="ticket-messages",
    ),
    path(
        "tickets/<int:pk>/transition/",
        tickets.TicketTransitionView.as_view(),
        name="ticket-transition",
    ),
    path(
        "tickets/<int:pk>/escalate/", tickets.TicketEscalateView.as_view(), name="ticket-escalate"
    ),
    path(
        "tickets/<int:pk>/redirect/", tickets.TicketRedirectView.as_view(), name="ticket-redirect"
    ),
    path("tickets/<int:pk>/links/", tickets.TicketLinkCreateView.as_view(), name="ticket-links"),
    path("tickets/<int:pk>/assign/", tickets.TicketAssignView.as_view(), name="ticket-assign"),
    path(
        "tickets/<int:pk>/attachments/<int:attachment_id>/",
        tickets.TicketAttachmentView.as_view(),
        name="ticket-attachment",
    ),
    path("contacts/", directory.ContactListView.as_view(), name="contact-list"),
    path("queues/", directory.QueueListView.as_view(), name="queue-list"),
    path(
        "canned-responses/",
        directory.CannedResponseListView.as_view(),
        name="canned-response-list",
    ),
    path("callbacks/", phone.CallbackListView.as_view(), name="callback-list"),
    path("callbacks/<int:pk>/", phone.CallbackDetailView.as_view(), name="callback-detail"),
    path(
        "callbacks/<int:pk>/outcome/",
        phone.CallbackOutcomeView.as_view(),
        name="callback-outcome",
    ),
    path("calls/", phone.CallRecordListView.as_view(), name="call-list"),
    path("kb/categories/", kb.CategoryListView.as_view(), name="kb-category-list"),
    path("kb/articles/", kb.ArticleListView.as_view(), name="kb-article-list"),
    path("kb/articles/<slug:slug>/", kb.ArticleDetailView.as_view(), name="kb-article-detail"),
    path("kb/search/", kb.ArticleSearchView.as_view(), name="kb-search"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="api:schema", authentication_classes=[], permission_classes=[AllowAny]
        ),
        name="docs",
    ),
    # Any rest, line breaks in the path included.
    re_path(r"^[\s\S]*$", not_found_view),
]
