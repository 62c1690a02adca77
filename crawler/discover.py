"""Finding a site's speeches with no URL patterns: what a fetched page is, what shape its address
has, which shapes are worth fetching, and which addresses are traps.

The evidence is the site's own pages. An article holds running Chinese prose in one main block; a
list holds many links whose anchors read like titles. Each page classified teaches the crawl its
address *shape* (the path with its numbers generalised): a shape that gave articles or lists is
fetched freely, a shape that gave neither after a few tries is not fetched again. Pure functions
and one small learner; the spider does the fetching.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from lxml import etree
from scrapy.linkextractors import IGNORED_EXTENSIONS

from cleaners.chars import cjk_count
from cleaners.dom import PARAGRAPH_TAGS, main_block, text_of

ARTICLE, LIST, OTHER = "article", "list", "other"
BUDGET = 3  # pages of an unproven shape fetched before it is judged; a shape that gave nothing stops there
MIN_PROSE = 200  # Chinese characters of running text in the main block that make an article
MIN_TITLES = 5  # title-like links that make a list

_SENTENCE_END = re.compile(r"[。！？!?]")
_NUMBER = re.compile(r"\d+")
_WORDISH = re.compile(r"[A-Za-z\d_-]{12,}")
_LETTER, _DIGIT = re.compile(r"[A-Za-z]"), re.compile(r"\d")
_DATE = re.compile(r"^(?:19|20)\d\d[-/.]?(?:0?[1-9]|1[0-2])(?:[-/.]?(?:0?[1-9]|[12]\d|3[01]))?$")
_BINARY = frozenset(IGNORED_EXTENSIONS)
# Words a page's address uses for what is not a page of the site's own writing: searching, and
# the visitor's own pages (log in, register, account). Matched as whole path segments or parameter names.
_SEARCH_WORDS = frozenset({"search", "so", "sousuo", "query", "find"})
_SEARCH_KEYS = frozenset({"q", "wd", "kw", "keyword", "keywords", "query", "search", "searchword", "word", "key"})
_VISITOR_WORDS = re.compile(r"^(?:log(?:in|on|out)|sign(?:in|up|out)|register|reg|member|members|user|users|account|"
                            r"passport|my|cart|denglu|zhuce|huiyuan|ucenter|uc|vip|pay|order)$", re.I)
NEXT_WORDS = ("下一页", "下页", "后一页", "下一頁", "下頁", "next", "›", "»", ">")  # the next page (of a list, or an article)
PAGINATION_WORDS = NEXT_WORDS + ("上一页", "上一頁", "尾页", "尾頁", "末页", "首页", "last")
_PAGINATION_URL = re.compile(r"(?:(?:list|index|page)[_-]\d+\.\w{2,5}$|[?&](?:page|p|pn|pageno|pg)=\d+)", re.I)


def shape(url: str) -> str:
    """The address with what varies between pages of one kind generalised: numbers become ``{n}``,
    long ids ``{id}``; the query keeps its parameter names, sorted. ``/a/2024/0312/1234.html`` and
    ``/a/2023/1101/87.html`` share one shape; so do ``/show.asp?id=3`` and ``/show.asp?id=40``."""
    parts = urlsplit(url)
    path = _NUMBER.sub("{n}", _WORDISH.sub(_id, parts.path))
    query = sorted({f"{k}={{n}}" if v.isdigit() else f"{k}={{s}}" for k, v in parse_qsl(parts.query, keep_blank_values=True)})
    return f"{parts.netloc}{path}" + ("?" + "&".join(query) if query else "")


def _id(run: re.Match[str]) -> str:
    """A long run of letters and digits both is an id or a hash (``5f2a9c0e11ab3d7e``); one of
    letters only is a word, kept."""
    word = run.group()
    return "{id}" if _LETTER.search(word) and _DIGIT.search(word) else word


def shape_pattern(shape_: str) -> str:
    """A regular expression for the addresses of ``shape_`` (for a source file the archivist keeps)."""
    _, slash, rest = shape_.partition("/")
    out = re.escape(slash + rest)
    for name, regex in ((r"\{n\}", r"\d+"), (r"\{id\}", r"[\w-]+"), (r"\{w\}", r"[\w-]+"), (r"\{s\}", r"[^&]*")):
        out = out.replace(name, regex)
    return r"^https?://[^/]+" + out + "$"


def trap(url: str) -> str | None:
    """Why ``url`` is not worth fetching whatever the site, or None: files that are not pages,
    search results, the visitor's own pages, calendars (a date as a parameter) and paths that
    repeat themselves (relative links resolved against their own page, without end)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.lower().split("/") if s]
    last = segments[-1] if segments else ""
    if "." in last and last.rsplit(".", 1)[1] in _BINARY:
        return "file"
    words = {re.sub(r"\.\w+$", "", s) for s in segments}
    query = parse_qsl(parts.query, keep_blank_values=True)
    if words & _SEARCH_WORDS or any(k.lower() in _SEARCH_KEYS for k, _ in query):
        return "search"
    if any(_VISITOR_WORDS.match(w) for w in words) or any(_VISITOR_WORDS.match(re.sub(r"\W", "", k)) for k, _ in query):
        return "visitor"
    if any(_DATE.match(v) for _, v in query):
        return "calendar"
    if max(Counter(segments).values(), default=0) >= 3 or _repeats(segments):
        return "repeats"
    return None


def _repeats(segments: list[str]) -> bool:
    """Whether the path ends in a run of segments said twice over (``/a/b/a/b``)."""
    n = len(segments)
    return any(segments[n - 2 * k:n - k] == segments[n - k:] for k in range(2, n // 2 + 1))


def is_pagination(url: str, anchor: str) -> bool:
    """A link to another page of the same list: by its words (下一页, 尾页, a page number) or its
    address (``list_2.html``, ``index_3.html``, ``?page=4``)."""
    label = anchor.strip().lower()
    return bool(_PAGINATION_URL.search(url)) or label in PAGINATION_WORDS or label.isdigit() and len(label) <= 4


def title_like(anchor: str) -> bool:
    """A link's words read like a title: several Chinese characters and no sentence of their own."""
    return cjk_count(anchor) >= 5 and not _SENTENCE_END.search(anchor.rstrip("。"))


def classify(root: etree._Element) -> str:
    """ARTICLE when the page's main block holds running prose (sentences, not links); LIST when it
    holds many title-like links (a block of summaries, each under its link, is a list too); OTHER
    otherwise."""
    block = main_block(root, MIN_PROSE)
    titles = sum(title_like(text_of(a)) for a in root.iter("a"))
    if block is not None:
        prose = text_of(block)
        linked = sum(len(text_of(a)) for a in block.iter("a"))
        linked_titles = sum(title_like(text_of(a)) for a in block.iter("a"))
        summaries = linked_titles >= MIN_TITLES and 2 * linked_titles >= sum(
            1 for el in block.iter(*PARAGRAPH_TAGS) if cjk_count(el.text or "") >= 10)
        if (not summaries and cjk_count(prose) - linked >= MIN_PROSE and len(_SENTENCE_END.findall(prose)) >= 3
                and linked < 0.3 * len(prose)):
            return ARTICLE
    return LIST if titles >= MIN_TITLES else OTHER


def family(shape_: str) -> str:
    """The shape with the name of its last path segment generalised as well: ``/tag/lingdao.html``
    and ``/tag/anquan.html`` (pages named by words, not numbers) are one family."""
    path, q, query = shape_.partition("?")
    head, slash, last = path.rpartition("/")
    stem, dot, ext = last.partition(".")
    return f"{head}{slash}{{w}}{dot}{ext}{q}{query}" if stem else shape_


@dataclass
class ShapeRecord:
    """What the crawl has learned of one address shape (or family of shapes)."""

    seen: Counter[str] = field(default_factory=Counter)  # pages of each kind
    streak: int = 0  # pages in a row that gave neither an article nor a list with new links
    in_flight: int = 0
    waiting: list[str] = field(default_factory=list)

    @property
    def proven(self) -> bool:
        return bool(self.seen[ARTICLE] or self.seen[LIST]) and not self.barren

    @property
    def barren(self) -> bool:
        """Not fetched again: a shape that gave no article and nothing new for ``BUDGET`` pages in a
        row (never proven, or a list that stopped leading anywhere: a calendar, an archive by date),
        or an article shape whose last ``4 × BUDGET`` pages were all something else."""
        return self.streak >= (4 * BUDGET if self.seen[ARTICLE] else BUDGET)

    def learn(self, kind: str, useful: bool) -> None:
        self.seen[kind] += 1
        self.streak = 0 if useful and kind != OTHER else self.streak + 1


@dataclass
class Shapes:
    """The shapes of one crawl, learned as pages are classified."""

    records: dict[str, ShapeRecord] = field(default_factory=dict)
    families: dict[str, ShapeRecord] = field(default_factory=dict)

    def _records(self, url: str) -> tuple[ShapeRecord, ShapeRecord]:
        key = shape(url)
        return self.records.setdefault(key, ShapeRecord()), self.families.setdefault(family(key), ShapeRecord())

    def admit(self, url: str, force: bool = False) -> str:
        """``fetch`` (send it now), ``wait`` (its shape is being tried; decide when it is judged) or
        ``skip`` (its shape is barren, or an untried shape of a barren family). An unproven shape
        has ``BUDGET`` pages fetched in all until one proves it. ``force``: fetch unless barren
        (the next page of a list)."""
        rec, fam = self._records(url)
        if rec.barren or not rec.proven and fam.barren:
            return "skip"
        if force or rec.proven or rec.seen.total() + rec.in_flight < BUDGET:
            rec.in_flight += 1
            return "fetch"
        rec.waiting.append(url)
        return "wait"

    def learn(self, url: str, kind: str, useful: bool = True) -> list[str]:
        """Record a fetched page's kind (``useful``: it led somewhere new); returns the waiting
        addresses its shape now lets through (all once proven, the next few while still unproven,
        none once barren)."""
        rec, fam = self._records(url)
        rec.in_flight = max(0, rec.in_flight - 1)
        rec.learn(kind, useful)
        fam.learn(kind, useful)
        if rec.barren:
            rec.waiting.clear()
            return []
        take = len(rec.waiting) if rec.proven else max(0, BUDGET - rec.seen.total() - rec.in_flight)
        released, rec.waiting = rec.waiting[:take], rec.waiting[take:]
        rec.in_flight += len(released)
        return released

    def known(self, url: str) -> None:
        """An article the archive holds already (not fetched again): its shape is an article shape."""
        for rec in self._records(url):
            rec.seen[ARTICLE] += 1

    def learned(self, kind: str) -> list[tuple[str, int]]:
        """Shapes that held mostly pages of ``kind``, with how many, most first; shapes of one
        family named by words (tag pages, sections) are given as their family."""
        mostly = {s: r.seen[kind] for s, r in self.records.items() if r.seen[kind] and r.seen[kind] * 2 >= r.seen.total()}
        members = Counter(family(s) for s in mostly)
        out: Counter[str] = Counter()
        for s, n in mostly.items():
            out[family(s) if members[family(s)] >= 2 else s] += n
        return out.most_common()

    def barren(self) -> list[str]:
        return [s for s, r in self.records.items() if r.barren]
