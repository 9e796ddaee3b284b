"""Query strings the database cannot hold never reach it: a NUL character in a query
parameter of /api/ is a 400 in the API's error shape (PostgreSQL refuses NUL in text,
and a view that filters on the raw parameter would answer 500)."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from api.errors import error_body

API_PREFIX = "/api/"


class ApiQueryCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX):
            bad = sorted(
                {
                    name
                    for name, values in request.GET.lists()
                    if "\x00" in name or any("\x00" in value for value in values)
                }
            )
            if bad:
                message = _("Null characters are not allowed.")
                return JsonResponse(
                    error_body(
                        "invalid",
                        _("The request has errors; see “fields”."),
                        {name.replace("\x00", "\\0"): [message] for name in bad},
                    ),
                    status=400,
                )
        return self.get_response(request)
