"""What a search returns (``SearchPage`` of ``SearchHit``) and the text helpers both
search back ends share."""

import html
import re
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

MAX_QUERY_LENGTH = 200
WORD_RE = re.compile(r"\w+", re.UNICODE)
# Private-use code points mark highlights inside database headlines; the text around
# them is HTML-escaped before they become <mark> tags, so article text and queries
# can never inject markup.
SEL_START, SEL_STOP = "\ue000", "\ue001"

# Words too common to search by on SQLite (PostgreSQL's ``russian`` config has its own)
# and never worth correcting as typos.
_STOP_WORDS_TEXT = (
    "а без в во вы где да для до его её если есть же за и из или им их к как ко когда "
    "ли мне мой может мы на над не нет ни но о об от по под при про с со так то только "
    "у уже что чтобы это я the a an and or of to in on for is are how what do i my"
)
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass(frozen=True)
class SearchHit:
    id: int
    title: str
    slug: str
    summary: str
    snippet: SafeString
    category_name: str
    category_slug: str
    audience: str
    rank: float

    @property
    def url(self) -> str:
        return f"{reverse('knowledge_base:index')}{self.slug}/"


@dataclass(frozen=True)
class SearchPage:
    query: str
    results: list[SearchHit] = field(default_factory=list)
    total: int = 0
    limit: int = 10
    offset: int = 0
    # How the results were found: "fulltext", "any-word", "typo" or "none".
    method: str = "none"
    # True when counting stopped at a cap: "more than ``total``".
    total_is_lower_bound: bool = False

    @property
    def has_next(self) -> bool:
        shown = self.offset + len(self.results)
        return shown < self.total or (self.total_is_lower_bound and len(self.results) == self.limit)

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1 if self.limit else 1

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit else 1


def words(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


def hit_from_row(row: dict, snippet: SafeString, rank: float | None = None) -> SearchHit:
    return SearchHit(
        id=row["id"],
        title=row["title"],
        slug=row["slug"],
        summary=row["summary"],
        snippet=snippet,
        category_name=row["category_name"],
        category_slug=row["category_slug"],
        audience=row["audience"],
        rank=float((row.get("rank") if rank is None else rank) or 0),
    )


def headline_to_html(headline: str) -> SafeString:
    escaped = html.escape(headline, quote=False)
    return mark_safe(  # noqa: S308 - text escaped above; only our own <mark> tags added
        escaped.replace(SEL_START, "<mark>").replace(SEL_STOP, "</mark>")
    )
