"""Who is calling: a bearer token (`Authorization: Bearer hd_…`, never a query
parameter), or a signed-in staff session with CSRF enforced (DRF's session auth)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication

from api.services import TOKEN_PREFIX, api_token_authenticate
from helpdesk.client_address import client_address_from_request

# Query parameters a client might put a token in: refused outright, so a token never
# lands in access logs, browser history or a Referer header.
TOKEN_QUERY_PARAMETERS = frozenset({"token", "access_token", "api_key", "apikey", "key", "auth"})


class ApiTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        _refuse_token_in_query(request)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        parts = header.split()
        if parts[0].lower() != self.keyword.lower():
            return None  # another scheme (Basic, …): not ours, maybe the session's
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Malformed Authorization header: expected “Bearer hd_…”."),
                code="malformed_token",
            )
        token = api_token_authenticate(
            raw=parts[1], address=client_address_from_request(request._request)
        )
        if token is None or not (token.user.is_active and token.user.is_staff):
            raise exceptions.AuthenticationFailed(
                _("The token is invalid, expired or revoked."), code="invalid_token"
            )
        return token.user, token

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def _refuse_token_in_query(request) -> None:
    params = request._request.GET
    if TOKEN_QUERY_PARAMETERS.intersection(params) or any(
        value.startswith(f"{TOKEN_PREFIX}_") for value in params.values()
    ):
        raise exceptions.AuthenticationFailed(
            _("Tokens are accepted only in the Authorization header, never in the URL."),
            code="token_in_query",
        )


class StaffSessionAuthentication(SessionAuthentication):
    """The browser's staff session; unsafe methods need the CSRF token (DRF enforces it
    for every session-authenticated request)."""
