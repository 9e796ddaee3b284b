from django.urls import path

from tickets.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("data/", views.dashboard_data, name="data"),
    path("export/<slug:name>.csv", views.dashboard_export, name="export"),
]
