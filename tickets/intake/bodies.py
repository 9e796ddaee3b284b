"""A message's text for the timeline: sanitised HTML, HTML as text, and the new part
of a reply without its quoted history and signature."""

import re
from html.parser import HTMLParser

import nh3

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
