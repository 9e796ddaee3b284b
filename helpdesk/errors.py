"""The project's 500 handler: a database that does not answer is a 503, not a 500.

While PostgreSQL restarts (or a connection pool is exhausted, or a lock wait gives up)
every request that needs the database fails with `OperationalError` / `InterfaceError`.
Nothing was saved (each write is one transaction), and the request will work again in a
moment: the citizen gets a "temporarily unavailable, send it again" page with
`Retry-After`, rendered without the database, and a load balancer may retry elsewhere.

Django calls the handler inside its `except` block, for exceptions raised in views and in
middleware alike, so `sys.exc_info()` still names the cause. With DEBUG on, Django shows
its technical page instead, as for any error.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.views import defaults

RETRY_AFTER_SECONDS = 30


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    if database_unavailable(sys.exc_info()[1]):
        # No request context: context processors would ask the database for the user.
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request, template_name)
