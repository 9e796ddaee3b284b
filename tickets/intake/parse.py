"""The one e-mail parser: raw RFC 822 bytes → `ParsedEmail`, for every door.

Standard library `email` with `policy.default`. Never trusts declared charsets: every
text goes through `decode_bytes` (declared → utf-8 → cp1251 → latin-1). Everything that
leaves this module is safe to store in PostgreSQL (no NUL bytes, no lone surrogates).
"""

import base64
import binascii
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3
from django.conf import settings


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
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
MAX_DEPTH = 5  # nested forwarded messages / multiparts we still descend into


def clean_text(value: str | None) -> str:
    """What PostgreSQL accepts: no NUL bytes, no lone surrogates."""
    if not value:
        return ""
    return _SURROGATES.sub("\ufffd", value.replace("\x00", ""))


def clean_line(value: str | None, limit: int = 998) -> str:
    """One header-like line: no control characters, folded whitespace, bounded."""
    value = _CONTROL.sub("", clean_text(value))
    return " ".join(value.split())[:limit]


# Labels mail clients use for a charset Python calls differently, or for its superset.
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "ks_c_5601-1987": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "us-ascii": "ascii",
    "x-user-defined": "latin-1",
}


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes → text: the declared charset, then utf-8, cp1251, latin-1 (never fails)."""
    candidates = []
    if charset:
        name = charset.strip().strip('"').lower()
        candidates.append(_CHARSET_ALIASES.get(name, name))
        if name == "iso-8859-1":
            candidates.append("latin-1")
    candidates += ["utf-8", "cp1251"]
    for name in candidates:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1", errors="replace")


def _unescape_surrogates(value: str, hint: str | None = None) -> str:
    """Raw 8-bit header bytes arrive surrogate-escaped: decode them with the fallbacks
    (`hint`: the charset the body declares, the best guess for raw header bytes)."""
    if not _SURROGATES.search(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", value)
    if hint:
        # 8-bit bytes cannot be 7-bit ISO-2022-JP: Japanese clients send Shift_JIS raw.
        hint = "cp932" if hint.lower().startswith("iso-2022-jp") else hint
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return decode_bytes(data, hint)
    return decode_bytes(data)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*?)\?=")


def _word_bytes(encoding: str, text: str) -> bytes:
    if encoding in "bB":
        text = re.sub(r"[^A-Za-z0-9+/]", "", text)
        return base64.b64decode(text + "=" * (-len(text) % 4))
    return binascii.a2b_qp(text.encode("ascii", "replace"), header=True)


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words with the charset fallbacks; adjacent words of one charset
    are joined before decoding (clients split multi-byte characters across them)."""
    if "=?" not in value:
        return value
    chunks: list[tuple[str | None, bytes | str]] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        if between and not (between.isspace() and chunks and chunks[-1][0] is not None):
            chunks.append((None, between))
        charset = match.group(1).split("*", 1)[0].lower()
        try:
            data = _word_bytes(match.group(2), match.group(3))
        except (ValueError, binascii.Error):
            chunks.append((None, match.group(0)))
        else:
            if chunks and chunks[-1][0] == charset:
                chunks[-1] = (charset, chunks[-1][1] + data)
            else:
                chunks.append((charset, data))
        pos = match.end()
    if value[pos:]:
        chunks.append((None, value[pos:]))
    return "".join(
        decode_bytes(data, charset) if charset is not None else data for charset, data in chunks
    )


def header(msg: EmailMessage, name: str, hint: str | None = None) -> str:
    """A header as text from its raw value, whatever is wrong with it ('' when absent)."""
    lname = name.lower()
    for key, raw in msg.raw_items():
        if key.lower() == lname:
            value = "".join(str(raw).splitlines())
            value = _unescape_surrogates(value, hint)
            return clean_text(decode_words(value))
    return ""


def header_all(msg: EmailMessage, name: str, hint: str | None = None) -> list[str]:
    values = []
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            value = "".join(str(raw).splitlines())
            values.append(clean_text(_unescape_surrogates(value, hint)))
    return values


def addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-cased address) pairs from address headers."""
    out = []
    try:
        # Split first, decode names after: a decoded name may hold a comma.
        pairs = getaddresses(values)
    except Exception:  # noqa: BLE001
        pairs = [parseaddr(v) for v in values]
    for name, addr in pairs:
        addr = clean_line(addr, 320).strip("<>").lower()
        if "@" in addr:
            out.append((clean_line(decode_words(name), 255).strip('"'), addr))
    return out


def message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


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


# --- HTML -------------------------------------------------------------------------

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def html_sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    )


class _TextExtractor(HTMLParser):
    _BLOCK = {
        "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "blockquote", "pre", "table", "ul", "ol",
    }  # fmt: skip

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quote_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "blockquote":
            self.quote_depth += 1
        if tag == "li":
            self.parts.append("\n- ")
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "td":
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        if tag in self._BLOCK and tag != "br":
            self.parts.append("\n")

    def handle_data(self, data):
        text = re.sub(r"\s+", " ", data)
        if self.quote_depth and text.strip():
            text = "> " * self.quote_depth + text
        self.parts.append(text)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - HTMLParser is lenient; belt and braces
        return re.sub(r"<[^>]+>", " ", html)
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- quoted history and signatures -----------------------------------------------

_QUOTE_HEADERS = [
    re.compile(r"^\s*-{2,}\s*(Original Message|Исходное сообщение)\s*-{2,}\s*$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above "From: ... Sent:"
    re.compile(r"^\s*On\s.{4,300}\swrote:\s*$", re.I | re.S),
    re.compile(r"^.{0,300}\s(пишет|писал|написал|написала|написал\(а\))\s*:\s*$", re.I | re.S),
    re.compile(r"^\s*(Am|Le|El)\s.{4,300}\s(schrieb|a écrit|escribió)\s*:\s*$", re.I | re.S),
]
_OUTLOOK_FROM = re.compile(r"^\s*\**(From|От|Von)\s*:\**\s+\S", re.I)
_OUTLOOK_SENT = re.compile(r"^\s*\**(Sent|Date|Отправлено|Дата|Gesendet)\s*:\**\s+\S", re.I)
_SIGNATURE = re.compile(
    r"^(--\s*|Sent from my .{1,40}|Отправлено (с|со|из) .{1,60}|Get Outlook for .{1,20})$",
    re.I,
)


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the first quote header or signature, drop "> "."""
    lines = text.splitlines()
    cut = len(lines)
    for i, line in enumerate(lines):
        two = f"{line} {lines[i + 1]}" if i + 1 < len(lines) else line
        if any(p.match(line) for p in _QUOTE_HEADERS) or (
            # "On Mon, 1 Jan 2024, John <john@x> wrote:" broken over two lines
            line.strip()
            and (i + 1 < len(lines))
            and not line.lstrip().startswith(">")
            and any(p.match(two) for p in _QUOTE_HEADERS[2:])
            and len(line) > 10
        ):
            cut = i
            break
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_SENT.match(nxt) for nxt in lines[i + 1 : i + 5]
        ):
            cut = i
            break
        if _SIGNATURE.match(line.rstrip()) and i > 0:
            cut = i
            break
    kept = [line for line in lines[:cut] if not line.lstrip().startswith(">")]
    result = "\n".join(kept).strip()
    return result or text.strip()


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
    name = decode_words(_unescape_surrogates(name or ""))
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
                text = "\n".join(
                    "\n".join(f"{k}: {clean_line(str(v))}" for k, v in b.raw_items())
                    for b in blocks
                )
            else:
                text = _part_text(part)
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
            self.report_ids += message_ids(
                "\n".join(
                    line
                    for line in text.splitlines()
                    if line.lower().startswith(("message-id:", "in-reply-to:", "references:"))
                )
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
        max_attachment_bytes = getattr(settings, "EMAIL_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024)
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
    return parsed
