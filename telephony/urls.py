from django.urls import path

from telephony.views import cti_webhook

app_name = "telephony"

urlpatterns = [path("cti/", cti_webhook, name="cti")]
