"""Which strings of our own code lack a Russian translation (the CI gate on the catalogue).

Extraction works like Django's `makemessages` without gettext binaries: Python files go
through Babel's extractor with Django's gettext keywords, templates through Django's own
`templatize` first (what makemessages feeds xgettext), our static JavaScript through
Babel's JavaScript extractor. A string counts as translated when a fragment in
`locale/ru/*.po` carries a non-fuzzy translation of it, or when an installed catalogue
(Django's, a third-party app's) already translates it — copies of Django's admin strings
in our templates need no second translation.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
# Our code: the project package, the apps and the project-wide templates and assets.
SOURCE_DIRS = (
    "helpdesk",
    "tickets",
    "knowledge_base",
    "chat",
    "notifications",
    "telephony",
    "api",
    "audit",
    "staffauth",
    "webhooks",
    "templates",
    "static",
)
SKIPPED_PARTS = {"migrations", "__pycache__", "vendor"}
TEMPLATE_SUFFIXES = {".html", ".txt", ".js", ".xml", ".svg"}
# Django's gettext names, in Babel's keyword spec: argument positions, "c" marks the context.
PYTHON_KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
# Our scripts call the jsi18n catalogue's gettext, some through a one-letter alias `t`.
JS_KEYWORDS = {"gettext": None, "t": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


@dataclass(frozen=True)
class Msg:
    domain: str  # "django" or "djangojs"
    context: str | None
    msgid: str

    def sort_key(self) -> tuple[str, str, str]:
        return (self.domain, self.context or "", self.msgid)


@dataclass(frozen=True)
class Gap:
    msg: Msg
    where: str  # "path:line" of one use, or the fragment holding the bad entry
    problem: str  # "missing", "untranslated" or "fuzzy"

    def __str__(self) -> str:
        ctx = f" [{self.msg.context}]" if self.msg.context else ""
        return f"{self.problem}: {self.msg.msgid!r}{ctx} ({self.msg.domain}, {self.where})"


def _source_files(root: Path) -> Iterator[Path]:
    for top in SOURCE_DIRS:
        for path in sorted((root / top).rglob("*")):
            if path.is_file() and not SKIPPED_PARTS.intersection(path.parts):
                yield path


def _extract_file(path: Path, root: Path) -> Iterator[tuple[str, int, str | None, str]]:
    """Yield (domain, line, context, msgid) for every translatable string in one file."""
    from django.utils.translation.template import templatize

    in_templates = "templates" in path.relative_to(root).parts
    if path.suffix == ".py":
        method, keywords, text, domain = "python", PYTHON_KEYWORDS, path.read_bytes(), "django"
    elif in_templates and path.suffix in TEMPLATE_SUFFIXES:
        source = path.read_text(encoding="utf-8")
        if "{%" not in source and "_(" not in source:
            return
        # templatize keeps the template's line structure; its indentation means nothing to
        # Python's tokenizer and would stop it, so each line is left-aligned.
        code = templatize(source, origin=str(path))
        text = "\n".join(line.lstrip() for line in code.split("\n")).encode()
        method, keywords, domain = "python", PYTHON_KEYWORDS, "django"
    elif path.suffix == ".js":
        method, keywords, text, domain = "javascript", JS_KEYWORDS, path.read_bytes(), "djangojs"
    else:
        return
    for line, message, _comments, context in extract(method, io.BytesIO(text), keywords):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            yield domain, line, context, msgid


def extract_messages(root: Path = ROOT) -> dict[Msg, str]:
    """Every translatable string of our code, with the place of its first use."""
    found: dict[Msg, str] = {}
    for path in _source_files(root):
        for domain, line, context, msgid in _extract_file(path, root):
            found.setdefault(Msg(domain, context, msgid), f"{path.relative_to(root)}:{line}")
    return found


def russian_catalogue(root: Path = ROOT) -> dict[Msg, tuple[str, str]]:
    """(problem or "", fragment name) for every entry of the Russian fragments."""
    entries: dict[Msg, tuple[str, str]] = {}
    for fragment in sorted((root / "locale" / "ru").glob("*.po")):
        domain = "djangojs" if fragment.stem.endswith("-js") else "django"
        with fragment.open("rb") as fh:
            catalogue = read_po(fh, locale="ru")
        for message in catalogue:
            if not message.id:
                continue
            msgid = message.id[0] if isinstance(message.id, tuple) else message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            problem = "fuzzy" if message.fuzzy else "" if all(strings) else "untranslated"
            key = Msg(domain, message.context, msgid)
            # A string kept in two fragments is fine when one of them translates it.
            if key not in entries or entries[key][0]:
                entries[key] = (problem, fragment.name)
    return entries


def _translated_elsewhere(msg: Msg) -> bool:
    """True when an installed catalogue (Django's, a third-party app's) translates it."""
    from django.utils import translation

    if msg.domain != "django":
        return False
    with translation.override("ru"):
        if msg.context:
            return translation.pgettext(msg.context, msg.msgid) != msg.msgid
        return translation.gettext(msg.msgid) != msg.msgid


def catalogue_gaps(
    used: dict[Msg, str], catalogue: dict[Msg, tuple[str, str]], *, fallback: bool = True
) -> list[Gap]:
    """Strings our code uses that Russian readers would see in English."""
    gaps: list[Gap] = []
    for msg, where in sorted(used.items(), key=lambda item: item[0].sort_key()):
        problem, fragment = catalogue.get(msg, ("missing", ""))
        if problem == "missing" and fallback and _translated_elsewhere(msg):
            continue
        if problem:
            gaps.append(Gap(msg, fragment or where, problem))
    return gaps


def stale_entries(used: Iterable[Msg], catalogue: dict[Msg, tuple[str, str]]) -> list[Msg]:
    """Fragment entries no code uses any more (reported, not failed: plurals' helpers)."""
    return sorted(set(catalogue) - set(used), key=Msg.sort_key)
