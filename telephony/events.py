"""CTI events as the phone platform sends them: the field names of Zammad's generic CTI
(`event`, `from`, `to`, `direction`, `callId`, `user`, `queue`, `cause`,
`answeringNumber`), as JSON or form-encoded, so scripts written for it work here."""

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

EVENTS = ("newCall", "answer", "hangup")
DIRECTIONS = ("in", "out")
_FIELD_MAX = 100


class CtiEventInvalid(ValueError):
    """The body is not a CTI event we understand (answered with 400)."""


@dataclass(frozen=True)
class CtiEvent:
    event: str
    call_id: str
    direction: str = ""
    from_number: str = ""
    to_number: str = ""
    user: str = ""
    queue: str = ""
    cause: str = ""
    answering_number: str = ""


def _fields(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CtiEventInvalid("body is not JSON") from exc
        if not isinstance(data, dict):
            raise CtiEventInvalid("body is not a JSON object")
    else:
        try:
            data = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
        except (UnicodeDecodeError, ValueError) as exc:
            raise CtiEventInvalid("body is not form-encoded") from exc
    fields = {}
    for key, value in data.items():
        # Zammad sends `user[]=…` (all agents a call rings) and lists in JSON: the first.
        key = key.removesuffix("[]")
        if isinstance(value, list):
            value = value[0] if value else ""
        if value is None:
            value = ""
        if not isinstance(value, str | int):
            raise CtiEventInvalid(f"{key} is not a string")
        fields[key] = str(value).strip()[:_FIELD_MAX]
    return fields


def cti_event_parse(body: bytes, content_type: str) -> CtiEvent:
    fields = _fields(body, content_type)
    event = fields.get("event", "")
    if event not in EVENTS:
        raise CtiEventInvalid("event must be newCall, answer or hangup")
    if not fields.get("callId"):
        raise CtiEventInvalid("callId is required")
    direction = fields.get("direction", "")
    if direction and direction not in DIRECTIONS:
        raise CtiEventInvalid("direction must be in or out")
    if event == "newCall" and not direction:
        raise CtiEventInvalid("direction is required for newCall")
    return CtiEvent(
        event=event,
        call_id=fields["callId"],
        direction=direction,
        from_number=fields.get("from", ""),
        to_number=fields.get("to", ""),
        user=fields.get("user", ""),
        queue=fields.get("queue", ""),
        cause=fields.get("cause", "")[:32],
        answering_number=fields.get("answeringNumber", ""),
    )
