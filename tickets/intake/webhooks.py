"""The ESP door: anymail's inbound webhook → the same `email_ingest` as the others.

Only the inbound webhook of the ESP named in ANYMAIL_ESP answers, and only when
ANYMAIL_WEBHOOK_SECRET (HTTP basic auth, "user:password") is set: anymail accepts
anonymous posts when the secret is unset, and an anonymous post can put a forged
message from any requester on any ticket. Every other `/anymail/...` address is a 404,
as if it were not mounted; the `tickets.E101` system check says why. The routes are
decided per request (not when urls.py is imported) so the settings are read at run time.

Before anymail reads the body: basic auth (401), size (413, nothing stored). Then
anymail checks the ESP's own signature (400) and parses the post; a post it cannot
parse is a 400, a message we could not store a 500 (the ESP retries later).
"""

import functools
import logging

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import inbound
from anymail.utils import get_anymail_setting, get_request_basic_auth
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt

from tickets.intake.ingest import email_ingest, max_message_bytes
from tickets.models import InboundEmail

logger = logging.getLogger(__name__)

# Raw MIME fields some ESPs post next to their parsed version.
_RAW_FIELDS = ("body-mime", "email", "RawEmail", "raw", "content")
# A post carries the message encoded (base64 in JSON, plus the parsed text and HTML
# next to the raw MIME), so it may be bigger than the message: a body over twice the
# message limit is refused unread, the message itself is measured once parsed.
_POST_SLACK = 2


class InboundNotStored(Exception):
    """Refuse the webhook (HTTP 500) so the ESP retries later."""


class InboundPayloadError(Exception):
    """The ESP's post is not what its format promises (HTTP 400: retrying cannot help)."""


class InboundTooBig(Exception):
    """The message is over EMAIL_MAX_MESSAGE_BYTES (HTTP 413, nothing stored)."""


def inbound_esp() -> str:
    """The configured ESP in anymail's spelling (`mailgun`, `amazon_ses`), or ""."""
    return (settings.ANYMAIL_ESP or "").strip().lower()


def webhook_secrets() -> list[str]:
    """The accepted basic-auth credentials ("user:password"), as anymail reads them."""
    secrets = get_anymail_setting("webhook_secret", default=[])
    if isinstance(secrets, str):
        secrets = [secrets]
    return [secret for secret in secrets if secret]


@functools.cache
def _inbound_view_class(esp: str) -> type | None:
    """Anymail's inbound view for `esp` (named as in anymail's urls), with parse errors
    turned into `InboundPayloadError`; None for an ESP without an inbound webhook."""
    from anymail import urls

    names = {f"{esp}_inbound_webhook", f"{esp}_webhook"}  # Mandrill: one combined view
    base = next(
        (p.callback.view_class for p in urls.urlpatterns if p.name in names),
        None,
    )
    if base is None:
        return None

    def parse_events(self, request):
        try:
            return base.parse_events(self, request)
        except (AnymailWebhookValidationFailure, RequestDataTooBig):
            raise
        except Exception as exc:  # KeyError, ValueError, ... from a malformed post
            raise InboundPayloadError(f"{type(exc).__name__}: {exc}") from exc

    return type(f"Guarded{base.__name__}", (base,), {"parse_events": parse_events})


def _authorized(request: HttpRequest, secrets: list[str]) -> bool:
    given = get_request_basic_auth(request) or ""
    # Compare with every secret (no early exit): the time says nothing about which.
    matches = [constant_time_compare(given, secret) for secret in secrets]
    return bool(given) and any(matches)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt
def inbound_webhook(request: HttpRequest, esp: str) -> HttpResponse:
    """`/anymail/<esp>/inbound/` (and Mailgun's `inbound_mime/`, Mandrill's `mandrill/`)."""
    secrets = webhook_secrets()
    view_class = _inbound_view_class(esp) if esp == inbound_esp() else None
    if view_class is None or not secrets:
        raise Http404("no inbound e-mail webhook here")
    if not _authorized(request, secrets):
        response = HttpResponse("basic auth required", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Basic realm="inbound e-mail"'
        return response
    if _content_length(request) > max_message_bytes() * _POST_SLACK:
        return _too_big()
    try:
        return view_class.as_view()(request)
    except (InboundTooBig, RequestDataTooBig):
        # RequestDataTooBig: a form field over DATA_UPLOAD_MAX_MEMORY_SIZE.
        return _too_big()
    except InboundPayloadError as exc:
        logger.warning("malformed %s inbound post: %s", esp, exc)
        return HttpResponse("malformed inbound post", status=400, content_type="text/plain")


def _too_big() -> HttpResponse:
    return HttpResponse(
        f"message over {max_message_bytes()} bytes", status=413, content_type="text/plain"
    )


def _raw_bytes(event) -> bytes:
    esp_event = getattr(event, "esp_event", None)
    post = getattr(esp_event, "POST", None)
    if post is not None:
        for name in _RAW_FIELDS:
            value = post.get(name)
            if value and ":" in value[:2000]:
                return value.encode("utf-8", "surrogateescape")
    message = event.message
    if message is None:
        raise InboundPayloadError("the post carries no message")
    try:
        return message.as_bytes()
    except Exception:  # noqa: BLE001 - a message anymail built from parsed fields
        return message.as_string().encode("utf-8", "replace")


def inbound_received(sender, event, esp_name, **kwargs) -> None:
    message = event.message
    recipient = getattr(message, "envelope_recipient", None) if message is not None else None
    raw = _raw_bytes(event)
    # Refused, not quarantined: the ESP keeps the message and tells its sender, and a
    # stream of huge posts cannot fill our storage. (The pipe and IMAP doors quarantine
    # instead: there the message is already ours, and refusing would lose it.)
    if len(raw) > max_message_bytes():
        raise InboundTooBig(f"{len(raw)} bytes")
    result = email_ingest(raw, source=InboundEmail.Source.WEBHOOK, recipient=recipient)
    if not result.stored:
        raise InboundNotStored(result.error)
    logger.info("inbound e-mail from %s: %s", esp_name, result)


def connect() -> None:
    inbound.connect(inbound_received, dispatch_uid="tickets.intake.webhooks.inbound")
