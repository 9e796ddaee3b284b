from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from helpdesk.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tickets:appeal", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("anymail/", include("anymail.urls")),
    path("kb/", include("knowledge_base.urls")),
    path("chat/", include("chat.urls")),
    path("dashboard/", include("tickets.dashboard.urls")),
    path("", include("tickets.urls")),
]
