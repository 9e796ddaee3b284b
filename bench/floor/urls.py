"""Two views that do nothing but the minimum: what the web stack itself costs."""

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt


def hello(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@csrf_exempt
def insert_one(request: HttpRequest) -> HttpResponse:
    """Parse a small form, INSERT one row in a transaction, redirect: an appeal's skeleton."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (value) VALUES (%s)", [request.POST.get("v", "")])
    return HttpResponseRedirect("/done/")


urlpatterns = [path("hello/", hello), path("insert/", insert_one)]
