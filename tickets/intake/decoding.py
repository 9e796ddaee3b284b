"""Decoding what mail says about itself: charsets (declared or not), RFC 2047 words,
headers, addresses and Message-IDs, into text PostgreSQL accepts."""

import base64
import binascii
import re
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

_SURROGATES = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")


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


def unescape_surrogates(value: str, hint: str | None = None) -> str:
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
            value = unescape_surrogates(value, hint)
            return clean_text(decode_words(value))
    return ""


def header_all(msg: EmailMessage, name: str, hint: str | None = None) -> list[str]:
    values = []
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            value = "".join(str(raw).splitlines())
            values.append(clean_text(unescape_surrogates(value, hint)))
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
