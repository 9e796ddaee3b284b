"""`POST /telephony/cti/`: signed CTI events from the phone platform (a thin adapter).

Who may call it: whoever holds CTI_SECRET. Without the secret configured the route does
not exist (404 for everything). The body is capped before anything else is done with
it; then the signature, the timestamp and the replay window (401); then the fields (400).
"""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from telephony.events import CtiEventInvalid, cti_event_parse
from telephony.services import cti_event_record
from telephony.signing import cti_signature_forget, cti_signature_valid

logger = logging.getLogger(__name__)


def _refused(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


@csrf_exempt
def cti_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.CTI_SECRET
    if not secret:
        raise Http404
    if request.method != "POST":
        response = _refused(405, "POST only")
        response["Allow"] = "POST"
        return response
    cap = settings.CTI_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > cap:
        return _refused(413, "body too large")
    body = request.read(cap + 1)
    if len(body) > cap:
        return _refused(413, "body too large")
    timestamp = request.headers.get("X-CTI-Timestamp", "")
    signature = request.headers.get("X-CTI-Signature", "")
    if not cti_signature_valid(secret=secret, timestamp=timestamp, signature=signature, body=body):
        logger.warning("CTI event refused: bad, stale or replayed signature")
        return _refused(401, "bad, stale or replayed signature")
    try:
        event = cti_event_parse(body, request.content_type or "")
    except CtiEventInvalid as exc:
        return _refused(400, str(exc))
    try:
        record = cti_event_record(event=event)
    except Exception:
        cti_signature_forget(secret=secret, timestamp=timestamp, body=body)
        raise
    return JsonResponse({"ok": True, "call": record.call_id, "missed": record.missed})
