from django.urls import path

from chat import views

app_name = "chat"

urlpatterns = [
    path("", views.chat_page, name="page"),
    path("widget.js", views.widget_js, name="widget"),
    path("start/", views.chat_start_view, name="start"),
    path("upload/", views.chat_upload, name="upload"),
    path("files/<int:attachment_id>/", views.chat_file, name="file"),
    path("transcript/", views.chat_transcript, name="transcript"),
    path("rating/", views.chat_rating, name="rating"),
    path("callback/", views.chat_callback, name="callback"),
    path("console/upload/", views.console_upload, name="console_upload"),
]
