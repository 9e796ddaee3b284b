"""The project's 500 handler: a database or an object store that does not answer is a
503, not a 500.

While PostgreSQL restarts (or a connection pool is exhausted, or a lock wait gives up)
every request that needs the database fails with `OperationalError` / `InterfaceError`.
Nothing was saved (each write is one transaction), and the request will work again in a
moment: the citizen gets a "temporarily unavailable, send it again" page with
`Retry-After`, rendered without the database, and a load balancer may retry elsewhere.

The same holds for the object store (files on S3, helpdesk/object_storage.py): a store
that refuses connections, times out or answers 5xx fails an upload before its transaction
commits, and a download before its first byte.

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


def storage_unavailable(exc: BaseException | None) -> bool:
    """The object store did not answer: no connection, a timeout, or a 5xx answer."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, BotoCoreError):
        return True
    return (
        isinstance(exc, ClientError)
        and exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500
    )


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    exc = sys.exc_info()[1]
    if database_unavailable(exc) or storage_unavailable(exc):
        # No request context: context processors would ask the database for the user.
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return defaults.server_error(request, template_name)
