"""Click-to-call through a generic HTTP hook, for phone exchanges that are not Asterisk.

We POST `{"extension", "number", "callback_id", "ticket"}` as JSON to CLICK_TO_CALL_URL,
signed the way the CTI webhook is signed the other way round (`X-CTI-Timestamp` and
`X-CTI-Signature` = hex HMAC-SHA256 of `<timestamp>.<body>` with CLICK_TO_CALL_SECRET), so
the exchange's side can check it with the same few lines.

The URL is configuration, but the request leaves from inside our network, so it goes
through the outgoing webhooks' SSRF guard (`webhooks/targets.py`): https only (http with
DEBUG), no private, loopback or link-local address unless CLICK_TO_CALL_ALLOW_PRIVATE, the
connection made to the address that was checked, no redirects. The timeout is short: an
operator is waiting in front of the button.
"""

import json
import time

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from telephony.signing import cti_signature
from webhooks.targets import TargetRefused, target_post, target_resolve


class PbxHookError(Exception):
    """The hook was not called or did not accept the call.

    `code` is language-neutral (for the audit log), `message` is for the operator."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def pbx_hook_enabled() -> bool:
    return bool(settings.CLICK_TO_CALL_URL)


def pbx_hook_body(*, extension: str, number: str, callback_id: int, ticket: str) -> bytes:
    """The exact bytes that are signed and sent."""
    payload = {
        "extension": extension,
        "number": number,
        "callback_id": callback_id,
        "ticket": ticket,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def pbx_hook_call(*, extension: str, number: str, callback_id: int, ticket: str) -> None:
    """Ask the exchange to ring `extension` and then dial `number`.

    Returns when it answered 2xx; raises PbxHookError otherwise (nothing is retried: the
    operator sees the message and may press the button again or dial by hand)."""
    secret = settings.CLICK_TO_CALL_SECRET
    if not secret:
        raise PbxHookError(
            "no_secret", _("Click-to-call has no CLICK_TO_CALL_SECRET to sign requests with.")
        )
    try:
        target = target_resolve(
            settings.CLICK_TO_CALL_URL, allow_private=settings.CLICK_TO_CALL_ALLOW_PRIVATE
        )
    except TargetRefused as exc:
        raise PbxHookError(
            "address_refused",
            _("The click-to-call address is refused: %(reason)s") % {"reason": exc},
        ) from None
    body = pbx_hook_body(extension=extension, number=number, callback_id=callback_id, ticket=ticket)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "helpdesk-click-to-call",
        "X-CTI-Timestamp": timestamp,
        "X-CTI-Signature": cti_signature(secret=secret, timestamp=timestamp, body=body),
    }
    seconds = settings.CLICK_TO_CALL_TIMEOUT
    try:
        status, _headers, _start = target_post(
            target, body=body, headers=headers, timeout=seconds, connect_timeout=seconds
        )
    except httpx.TimeoutException:
        raise PbxHookError(
            "timeout",
            _("The phone exchange did not answer within %(seconds)s s. Dial by hand.")
            % {"seconds": f"{seconds:g}"},
        ) from None
    except (httpx.HTTPError, OSError):
        raise PbxHookError(
            "unreachable", _("The phone exchange cannot be reached. Dial by hand.")
        ) from None
    if not 200 <= status < 300:
        raise PbxHookError(
            "rejected",
            _("The phone exchange refused the call (HTTP %(status)s). Dial by hand.")
            % {"status": status},
            status=status,
        )
