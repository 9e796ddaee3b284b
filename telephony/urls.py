from django.urls import path

from telephony.views import cti_webhook
from telephony.views_call import callback_call_view

app_name = "telephony"

urlpatterns = [
    path("cti/", cti_webhook, name="cti"),
    path("call/<int:callback_id>/", callback_call_view, name="callback_call"),
]
