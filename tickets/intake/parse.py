"""The one e-mail parser: raw RFC 822 bytes → `ParsedEmail`, for every door.

Standard library `email` with `policy.default`. Never trusts declared charsets: every
text goes through `decode_bytes` (declared → utf-8 → cp1251 → latin-1; decoding.py).
Everything that leaves this module is safe to store in PostgreSQL (no NUL bytes, no
lone surrogates). Text for the timeline comes from bodies.py.
"""

import binascii
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django.conf import settings

from tickets.intake.bodies import html_sanitise, html_to_text, strip_quoted
from tickets.intake.decoding import (
    addresses,
    clean_line,
    clean_text,
    decode_bytes,
    decode_words,
    header,
    header_all,
    message_ids,
    unescape_surrogates,
)


class _IntakePolicy(policy.EmailPolicy):
    """`policy.default`, except that header values are fetched as plain strings.

    The header registry re-parses a structured header on every access (about a
    millisecond each for Content-Type); the parser alone asks for it several times per
    part. We decode the few headers we need ourselves (`header()`, `decode_words`), and
    `email.message.Message`'s string-based helpers (get_param with RFC 2231,
    get_filename, get_content_type) work on the raw value.
    """

    def header_fetch_parse(self, name, value):
        if hasattr(value, "name"):
            return str(value)
        return "".join(value.splitlines())


INTAKE_POLICY = _IntakePolicy()
_PARSER = BytesParser(policy=INTAKE_POLICY)
MAX_DEPTH = 5  # nested forwarded messages / multiparts we still descend into


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str = ""


@dataclass
class ParsedEmail:
    message_id: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_email: str = ""
    recipients: list[str] = field(default_factory=list)  # To, Cc
    delivered_to: list[str] = field(default_factory=list)  # Delivered-To, X-Original-To
    text: str = ""  # for the timeline: no quoted history, no signature
    full_text: str = ""
    html: str = ""  # sanitised
    attachments: list[ParsedAttachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. attachments left out (too big)
    is_report: bool = False  # DSN / bounce
    report_message_ids: list[str] = field(default_factory=list)  # the mail that bounced
    report_subject: str = ""
    # (action, status) of each recipient block of a delivery-status part: ("failed", "5.1.1")
    report_statuses: list[tuple[str, str]] = field(default_factory=list)
    headers: EmailMessage | None = None

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers: In-Reply-To first, then References newest first."""
        seen, out = set(), []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.add(mid)
                out.append(mid)
        return out[:30]


# --- MIME walk --------------------------------------------------------------------


def _part_text(part: EmailMessage) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return clean_text(decode_bytes(payload, charset))


def _uudecode(text: str) -> bytes:
    """uuencoded body, with or without the "begin" line (some clients omit it)."""
    out = []
    for line in text.splitlines():
        if line.startswith("begin ") or not line.strip():
            continue
        if line.strip() in ("`", "end"):
            break
        try:
            out.append(binascii.a2b_uu(line))
        except binascii.Error:
            nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
            out.append(binascii.a2b_uu(line[:nbytes]))
    return b"".join(out)


def _part_bytes(part: EmailMessage) -> bytes:
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
        raw = part.get_payload()
        if isinstance(raw, str):
            try:
                return _uudecode(raw)
            except (binascii.Error, IndexError):
                pass
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        raw = part.get_payload()
        if isinstance(raw, str):
            return raw.encode("utf-8", "surrogateescape")
        return b""
    return payload


def _message_bytes(msg: EmailMessage) -> bytes:
    try:
        return msg.as_bytes(policy=policy.compat32)
    except Exception:  # noqa: BLE001
        return clean_text(str(msg)).encode("utf-8", "replace")


def _safe_filename(name: str, content_type: str, index: int) -> str:
    name = decode_words(unescape_surrogates(name or ""))
    name = clean_line(name.replace("\\", "/").rsplit("/", 1)[-1], 200).strip(". ")
    if not name:
        ext = mimetypes.guess_extension(content_type or "") or ".bin"
        name = f"attachment-{index}{ext}"
    return name


def _filename(part: EmailMessage) -> str:
    try:
        return part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a broken parameter: look for the raw name
        raw = header(part, "Content-Disposition") + ";" + header(part, "Content-Type")
        match = re.search(r'name\*?=\s*"?([^";]+)', raw, re.I)
        return match.group(1) if match else ""


def _content_type(part: EmailMessage) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _disposition(part: EmailMessage) -> str | None:
    try:
        return part.get_content_disposition()
    except Exception:  # noqa: BLE001
        return None


class _Walker:
    def __init__(self, max_attachment: int):
        self.max_attachment = max_attachment
        self.plain: list[str] = []
        self.html: list[str] = []
        self.forwarded: list[str] = []
        self.attachments: list[ParsedAttachment] = []
        self.notes: list[str] = []
        self.report_ids: list[str] = []
        self.report_subject = ""
        self.report_statuses: list[tuple[str, str]] = []
        self.is_report = False

    def add_attachment(self, part, data: bytes, content_type: str, name: str) -> None:
        index = len(self.attachments) + 1
        filename = _safe_filename(name, content_type, index)
        if len(data) > self.max_attachment:
            self.notes.append(
                f"[attachment “{filename}” ({len(data)} bytes) left out: "
                f"over the {self.max_attachment}-byte limit]"
            )
            return
        content_id = clean_line(header(part, "Content-ID"), 255).strip("<>")
        inline = _disposition(part) == "inline" or (
            bool(content_id) and content_type.startswith("image/")
        )
        self.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=content_type,
                data=data,
                inline=inline and _disposition(part) != "attachment",
                content_id=content_id,
            )
        )

    def walk(self, part: EmailMessage, depth: int = 0, alternative: bool = False) -> None:
        content_type = _content_type(part)
        maintype = content_type.split("/", 1)[0]
        if content_type == "multipart/report":
            self.is_report = True
        if part.is_multipart() and maintype == "multipart":
            children = part.get_payload()
            if not isinstance(children, list):
                return
            if depth >= MAX_DEPTH:
                self.add_attachment(part, _message_bytes(part), "message/rfc822", "part.eml")
                return
            if content_type == "multipart/alternative":
                self._alternative(children, depth)
            else:
                for child in children:
                    self.walk(child, depth + 1)
            return
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            self.is_report = True
            if part.is_multipart():
                blocks = [b for b in part.get_payload() if isinstance(b, EmailMessage)]
                block_texts = [
                    "\n".join(f"{k}: {clean_line(str(v))}" for k, v in b.raw_items())
                    for b in blocks
                ]
                text = "\n".join(block_texts)
                self._delivery_status("\n\n".join(block_texts))
            else:
                text = _part_text(part)
                self._delivery_status(text)
            self.add_attachment(
                part, text.encode("utf-8", "replace"), "text/plain", "delivery-status.txt"
            )
            self.plain.append(text)
            return
        if content_type in ("message/rfc822", "message/global") or (
            part.is_multipart() and maintype == "message"
        ):
            self._forwarded(part, depth)
            return
        if content_type == "text/rfc822-headers":
            self.is_report = True
            text = _part_text(part)
            # The returned message's own Message-ID first: it names the mail that
            # bounced; In-Reply-To/References name earlier mail of the thread.
            lines = text.splitlines()
            for name in ("message-id:", "in-reply-to:", "references:"):
                self.report_ids += message_ids(
                    "\n".join(line for line in lines if line.lower().startswith(name))
                )
            match = re.search(r"^Subject:\s*(.*)$", text, re.M | re.I)
            if match and not self.report_subject:
                self.report_subject = decode_words(match.group(1))
            self.add_attachment(part, _part_bytes(part), "text/plain", "headers.txt")
            return
        filename = _filename(part)
        disposition = _disposition(part)
        if maintype == "text" and not filename and disposition != "attachment":
            if content_type == "text/html":
                self.html.append(_part_text(part))
            else:  # text/plain, and any other text/* shown inline
                self.plain.append(_part_text(part))
            return
        self.add_attachment(part, _part_bytes(part), content_type, filename)

    def _delivery_status(self, text: str) -> None:
        """Recipient blocks (Action, Status) and the original Message-ID some MTAs put
        in the report itself (Gmail's X-Original-Message-ID)."""
        action = status = ""
        for line in [*text.splitlines(), ""]:
            name, sep, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if not line.strip():  # a blank line ends a block
                if action or status:
                    self.report_statuses.append((action, status))
                action = status = ""
            elif not sep or line[:1].isspace():
                continue  # a folded continuation or junk
            elif name == "x-original-message-id":
                self.report_ids += message_ids(value)
            elif name == "action":
                action = value.lower().split()[0] if value else ""
            elif name == "status":
                status = value.split()[0] if value else ""

    def _alternative(self, children, depth: int) -> None:
        # Keep the best plain and the best HTML version; attachments of every branch.
        best_plain = best_html = None
        for child in children:
            sub = _Walker(self.max_attachment)
            sub.walk(child, depth + 1)
            if sub.plain and any(s.strip() for s in sub.plain):
                best_plain = best_plain or sub.plain
            if sub.html:
                best_html = sub.html
            self.attachments += sub.attachments
            self.notes += sub.notes
            self.forwarded += sub.forwarded
            self.report_ids += sub.report_ids
            self.report_statuses += sub.report_statuses
            self.is_report = self.is_report or sub.is_report
        if best_plain:
            self.plain += best_plain
        if best_html:
            self.html += best_html

    def _forwarded(self, part: EmailMessage, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if inner is None or not isinstance(inner, EmailMessage):
            self.add_attachment(part, _part_bytes(part), "message/rfc822", "message.eml")
            return
        subject = header(inner, "Subject")
        if self.is_report:
            for name in ("Message-ID", "In-Reply-To", "References"):
                self.report_ids += message_ids(header(inner, name))
            self.report_subject = self.report_subject or subject
        name = _filename(part) or f"{clean_line(subject, 80) or 'message'}.eml"
        if not name.lower().endswith(".eml"):
            name += ".eml"
        self.add_attachment(part, _message_bytes(inner), "message/rfc822", name)
        if depth < MAX_DEPTH:
            sub = _Walker(self.max_attachment)
            sub.walk(inner, depth + 1)
            body = "\n\n".join(s for s in sub.plain if s.strip()) or "\n\n".join(
                html_to_text(html_sanitise(h)) for h in sub.html
            )
            intro = "\n".join(
                f"{label}: {value}"
                for label, value in (
                    ("From", header(inner, "From")),
                    ("Date", header(inner, "Date")),
                    ("Subject", subject),
                )
                if value
            )
            self.forwarded.append(
                f"---------- Forwarded message ----------\n{intro}\n\n{body}".strip()
            )
            self.attachments += [a for a in sub.attachments if a.inline is False]
            self.notes += sub.notes


_HEADER_LINE = re.compile(rb"^[!-9;-~]{1,80}:")


def _skip_preamble(raw: bytes) -> bytes:
    """Drop an mbox "From " line or a few lines of junk some systems put before headers."""
    for _ in range(5):
        first, sep, rest = raw.partition(b"\n")
        if not sep or _HEADER_LINE.match(first):
            return raw
        if first.startswith(b"From ") or not first.strip() or len(first) < 200:
            raw = rest
            continue
        return raw
    return raw


def _charset_hint(msg: EmailMessage) -> str | None:
    """The first non-ASCII/UTF-8 charset the body declares: raw header bytes likely use it."""
    try:
        for part in msg.walk():
            charset = part.get_content_charset()
            if charset and charset.lower() not in ("us-ascii", "utf-8", "utf8"):
                return charset
    except Exception:  # noqa: BLE001
        return None
    return None


def parse_email(raw: bytes, *, max_attachment_bytes: int | None = None) -> ParsedEmail:
    """Parse one raw message. Raises only on input that is not a message at all."""
    if max_attachment_bytes is None:
        max_attachment_bytes = settings.EMAIL_MAX_ATTACHMENT_BYTES
    raw = _skip_preamble(raw)
    msg = _PARSER.parsebytes(raw)
    parsed = ParsedEmail(headers=msg)
    hint = _charset_hint(msg)
    # Indexed columns (btree entries must stay small): real Message-IDs are short.
    parsed.message_id = clean_line(
        (message_ids(header(msg, "Message-ID")) or [header(msg, "Message-ID")])[0], 300
    )
    parsed.in_reply_to = message_ids(header(msg, "In-Reply-To"))
    parsed.references = message_ids(header(msg, "References"))
    parsed.subject = clean_line(header(msg, "Subject", hint))

    senders = (
        addresses(header_all(msg, "From", hint))
        or addresses(header_all(msg, "Reply-To", hint))
        or addresses(header_all(msg, "Sender", hint))
        or addresses(header_all(msg, "Return-Path"))
    )
    if senders:
        parsed.from_name, parsed.from_email = senders[0]
    parsed.recipients = [a for _n, a in addresses(header_all(msg, "To") + header_all(msg, "Cc"))]
    parsed.delivered_to = [
        a
        for _n, a in addresses(
            header_all(msg, "Delivered-To")
            + header_all(msg, "X-Original-To")
            + header_all(msg, "Envelope-To")
        )
    ]

    walker = _Walker(max_attachment_bytes)
    walker.walk(msg)
    plain = "\n\n".join(s.strip("\n") for s in walker.plain if s.strip())
    html = "\n".join(walker.html)
    if html.strip():
        parsed.html = clean_text(html_sanitise(html))
    body = plain or (html_to_text(parsed.html) if parsed.html else "")
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    forwarded = "\n\n".join(walker.forwarded)
    notes = "\n".join(walker.notes)
    parsed.full_text = clean_text("\n\n".join(x for x in (body, forwarded, notes) if x.strip()))
    stripped = strip_quoted(body) if body.strip() else ""
    parsed.text = clean_text("\n\n".join(x for x in (stripped or forwarded, notes) if x.strip()))
    parsed.attachments = walker.attachments
    parsed.notes = walker.notes
    parsed.is_report = walker.is_report
    parsed.report_message_ids = list(dict.fromkeys(walker.report_ids))
    parsed.report_subject = clean_line(walker.report_subject)
    parsed.report_statuses = walker.report_statuses[:100]
    return parsed
