"""The request being served, so that events recorded deep in a service or a signal
receiver (a permission change, a merge) still name who did it and from where."""

from contextvars import ContextVar

from django.http import HttpRequest

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    return _current_request.get()


class AuditRequestMiddleware:
    """Remembers the request for `audit_record` while the view runs (after auth)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
