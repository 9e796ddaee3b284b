"""The ESP door: anymail's inbound signal → the same `email_ingest` as the others.

Anymail's view (`/anymail/<esp>/inbound/`) has already checked basic auth
(ANYMAIL["WEBHOOK_SECRET"]) and the ESP's own signature before the signal is sent.
"""

import logging

from anymail.signals import inbound

from tickets.intake.ingest import email_ingest
from tickets.models import InboundEmail

logger = logging.getLogger(__name__)

# Raw MIME fields some ESPs post next to their parsed version.
_RAW_FIELDS = ("body-mime", "email", "RawEmail", "raw", "content")


class InboundNotStored(Exception):
    """Refuse the webhook (HTTP 500) so the ESP retries later."""


def _raw_bytes(event) -> bytes:
    esp_event = getattr(event, "esp_event", None)
    post = getattr(esp_event, "POST", None)
    if post is not None:
        for name in _RAW_FIELDS:
            value = post.get(name)
            if value and ":" in value[:2000]:
                return value.encode("utf-8", "surrogateescape")
    message = event.message
    try:
        return message.as_bytes()
    except Exception:  # noqa: BLE001 - a message anymail built from parsed fields
        return message.as_string().encode("utf-8", "replace")


def inbound_received(sender, event, esp_name, **kwargs) -> None:
    message = event.message
    recipient = getattr(message, "envelope_recipient", None) if message is not None else None
    result = email_ingest(
        _raw_bytes(event), source=InboundEmail.Source.WEBHOOK, recipient=recipient
    )
    if not result.stored:
        raise InboundNotStored(result.error)
    logger.info("inbound e-mail from %s: %s", esp_name, result)


def connect() -> None:
    inbound.connect(inbound_received, dispatch_uid="tickets.intake.webhooks.inbound")
