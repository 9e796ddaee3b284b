from django.urls import path

from knowledge_base import views

app_name = "knowledge_base"

# Fixed words first: "search", "suggest" and "category" must never be taken for slugs.
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("suggest/", views.suggest, name="suggest"),
    path("category/<slug:slug>/", views.category_detail, name="category"),
    path("<slug:slug>/", views.article_detail, name="article"),
    path("<slug:slug>/vote/", views.article_vote, name="vote"),
]
