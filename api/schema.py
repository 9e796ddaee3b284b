"""drf-spectacular: how the two ways of signing in, and the errors, appear in the
OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny

from api.serializers import ErrorSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ApiTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hd_<prefix>_<secret>",
            "description": "An API token (manage.py api_token create, or the admin). "
            "Only in the Authorization header; a token in the URL is refused.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "A signed-in staff session (browser); unsafe methods need the "
            "X-CSRFToken header.",
        }


# What each error status means, for the schema's response descriptions.
ERROR_DESCRIPTIONS = {
    "400": "Bad input: the fields named in `error.fields` (query parameters, body, cursor).",
    "401": "No token, or an invalid, expired or revoked one (or a token in the URL).",
    "403": "The token lacks the scope, or its user the permission.",
    "404": "Not there, or not visible to the caller (another queue than the token's).",
    "409": "The state does not allow this: a status move tickets.workflow.TRANSITIONS "
    "forbids, or a call-back attempt that is not the next one.",
    "415": "The body is not application/json.",
    "429": "Over the token's rate limit; `Retry-After` says when to try again.",
}


class ApiAutoSchema(AutoSchema):
    """Every operation documents the errors it can answer with, all in the one shape of
    `api.errors` (`{"error": {"code", "message", "fields"}}`): an integrator's client
    generated from the schema knows every status it will see."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response" or not self.path.startswith("/api/v1/"):
            return responses
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[code] = response
        return responses

    def _error_codes(self) -> list[str]:
        view = self.view
        public = any(isinstance(p, AllowAny) for p in view.get_permissions())
        writes = self.method not in ("GET", "HEAD", "OPTIONS")
        codes = ["400", "401"]
        if not public:
            codes.append("403")
        if "{" in self.path:
            codes.append("404")
        if getattr(view, "may_conflict", False):
            codes.append("409")
        if writes:
            codes.append("415")
        codes.append("429")
        return codes
