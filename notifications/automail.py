"""Is a message machine-generated? Never auto-reply to one: no mail loops.

Shared by the e-mail intake (should this message get an auto-reply, may it reopen a
ticket?) and the outbox. Knows nothing about tickets.
"""

import re
from collections.abc import Iterable, Mapping
from email.utils import getaddresses

_ROBOT_LOCALPARTS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|donotreply|bounces?|"
    r"auto-?reply|autoresponder|notifications?|noreply-[\w.-]+)$",
    re.I,
)
_BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help")


def _header(headers: Mapping, name: str) -> str | None:
    value = headers.get(name)
    return None if value is None else str(value).strip()


def auto_generated_reason(headers: Mapping, *, own_addresses: Iterable[str] = ()) -> str | None:
    """The reason a message counts as automatic, or None for a message a person wrote.

    `headers` is anything with `.get(name)` (an `email.message.EmailMessage` works).
    """
    auto_submitted = _header(headers, "Auto-Submitted")
    if auto_submitted and auto_submitted.lower() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = (_header(headers, "Precedence") or "").lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _LIST_HEADERS:
        if _header(headers, name):
            return f"{name} present"
    if _header(headers, "X-Autoreply") or _header(headers, "X-Autorespond"):
        return "X-Autoreply present"
    suppress = (_header(headers, "X-Auto-Response-Suppress") or "").lower()
    if suppress and ("all" in suppress or "oof" in suppress or "autoreply" in suppress):
        return f"X-Auto-Response-Suppress: {suppress}"
    return_path = _header(headers, "Return-Path")
    if return_path is not None and return_path.strip("<> ") == "":
        return "empty Return-Path"
    content_type = (_header(headers, "Content-Type") or "").lower()
    if "multipart/report" in content_type:
        return "delivery status report"
    sender = sender_address(headers)
    if sender:
        local = sender.split("@", 1)[0]
        if _ROBOT_LOCALPARTS.match(local):
            return f"robot sender {sender}"
        own = {a.strip().lower() for a in own_addresses if a}
        if sender in own:
            return f"our own address {sender}"
    return None


def sender_address(headers: Mapping) -> str:
    """The From address, lower-cased ('' if there is none)."""
    value = _header(headers, "From") or ""
    addresses = [addr for _name, addr in getaddresses([value]) if addr]
    return addresses[0].lower() if addresses else ""
