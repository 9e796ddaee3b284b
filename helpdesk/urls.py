from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from helpdesk.health import healthz
from helpdesk.metrics import metrics
from tickets.intake.webhooks import inbound_webhook


class FaviconRedirect(RedirectView):
    # Resolved per request: the manifest storage knows the hashed name only at run time.
    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tickets:appeal", permanent=False)),
    # Browsers ask for /favicon.ico whatever the pages link to.
    path("favicon.ico", FaviconRedirect.as_view()),
    path("healthz", healthz, name="healthz"),
    # /healthz/live and /healthz/ready are answered by helpdesk.health.HealthProbeMiddleware.
    path("metrics", metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the admin: its login address becomes password + second factor.
    path("", include("staffauth.urls")),
    path("admin/", admin.site.urls),
    # Anymail's addresses, but only the configured ESP's inbound webhook, and only with
    # a webhook secret; the rest is a 404 (see tickets/intake/webhooks.py).
    path("anymail/<slug:esp>/inbound/", inbound_webhook, name="anymail_inbound"),
    re_path(r"^anymail/(?P<esp>mailgun)/inbound_mime/$", inbound_webhook),
    path("anymail/mandrill/", inbound_webhook, {"esp": "mandrill"}),
    path("api/", include("api.urls")),
    path("kb/", include("knowledge_base.urls")),
    path("chat/", include("chat.urls")),
    path("telephony/", include("telephony.urls")),
    path("dashboard/", include("tickets.dashboard.urls")),
    path("", include("tickets.urls")),
]

# A database that does not answer is a 503 "send it again" page, not a 500 (helpdesk/errors.py).
handler500 = "helpdesk.errors.server_error"
