from django.urls import path

from tickets.views import public, satisfaction

app_name = "tickets"

urlpatterns = [
    path("appeal/", public.appeal_create, name="appeal"),
    path("appeal/done/<str:number>/", public.appeal_done, name="appeal_done"),
    path("appeal/status/", public.status_lookup, name="status_lookup"),
    path("appeal/<str:number>/", public.status, name="status"),
    path(
        "appeal/<str:number>/files/<int:attachment_id>/",
        public.attachment_download,
        name="attachment",
    ),
    path("appeal/<str:number>/callback/", public.callback_request, name="callback"),
    path("appeal/<str:number>/feedback/", satisfaction.feedback, name="feedback"),
]
