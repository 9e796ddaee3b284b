"""Every API error in one shape: `{"error": {"code", "message", "fields"}}`, the message
in Russian or English by Accept-Language. Services' Django ValidationErrors and Http404
become 400 and 404 here, so a bad input never turns into a 500."""

import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from tickets.services.callbacks import CallbackAttemptConflict
from tickets.workflow import TransitionNotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _messages() -> dict[str, str]:
    # Built per call: gettext must run in the request's language.
    return {
        "not_authenticated": _(
            "Authentication required: send a token as “Authorization: Bearer hd_…”."
        ),
        "authentication_failed": _("The token is invalid, expired or revoked."),
        "permission_denied": _("You are not allowed to do this."),
        "not_found": _("Not found."),
        "invalid": _("The request has errors; see “fields”."),
        "parse_error": _("The request body is not valid JSON."),
        "method_not_allowed": _("This method is not allowed here."),
        "not_acceptable": _("This response format is not available."),
        "unsupported_media_type": _("Send the request body as application/json."),
        "conflict": _("The ticket is not in a state that allows this."),
    }


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> list[str] | dict:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        out = []
        for item in detail:
            flat = _flatten(item)
            out.extend(flat if isinstance(flat, list) else [flat])
        return out
    return [str(detail)]


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TransitionNotAllowed):
        exc = Conflict(detail=exc.messages[0], code="transition_not_allowed")
    elif isinstance(exc, CallbackAttemptConflict):
        exc = Conflict(detail=exc.messages[0], code=exc.code or "conflict")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=as_serializer_error(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    messages = _messages()
    fields: dict = {}
    if isinstance(exc, exceptions.ValidationError):
        code = "invalid"
        detail = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        )
        fields = _flatten(detail)
        general = fields.pop(api_settings.NON_FIELD_ERRORS_KEY, [])
        message = " ".join(general) if general and not fields else messages["invalid"]
        if general and fields:
            fields[api_settings.NON_FIELD_ERRORS_KEY] = general
    elif isinstance(exc, exceptions.Throttled):
        code = "rate_limited"
        wait = math.ceil(exc.wait or 1)
        message = _("Too many requests; try again in %(seconds)s s.") % {"seconds": wait}
        response["Retry-After"] = str(wait)
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        default = messages.get(code) or messages.get(exc.default_code)
        # DRF's own English default text is replaced by ours; a message we raised
        # ourselves (a specific reason) is kept.
        own = str(exc.detail) if str(exc.detail) != str(exc.default_detail) else ""
        message = own or default or str(exc.detail)
    response.data = error_body(code, message, fields)
    return response


@csrf_exempt
def not_found_view(request, *args, **kwargs):
    """Any address under /api/ that is not an endpoint: the same JSON shape, for every
    method (a POST without a CSRF token too: the API's answer is 404, not the site's
    HTML 403)."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)
