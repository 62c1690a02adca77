"""One page (one or more HTML parts) in, clean speeches out — every removal with its reason.

    DOM: hidden text → page furniture → body (source selectors, else the densest text container,
         else trafilatura)
    text: normalise → source rules → paywall → watermarks → chrome → site voice → repeats
    split into speeches → per speech: header metadata, flags, the prose check (cleaners/prose.py)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from cleaners import dom, text
from cleaners.chars import fold, prefold, script_of
from cleaners.metadata import SpeechMeta, gap_flags, has_mojibake, take_header
from cleaners.prose import not_prose
from cleaners.split import split_speeches
from cleaners.types import Para, Removal, StepOut, texts

CLEANER_VERSION = "2026.12.1"


@dataclass(frozen=True)
class SiteRules:
    """What a source file may say about its site's pages; everything is optional."""

    title_selector: str | None = None
    body_selector: str | None = None
    date_selector: str | None = None
    noise: tuple[str, ...] = ()

    def noise_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(fold(n)) for n in self.noise]


@dataclass
class Speech:
    title: str
    paragraphs: list[str]
    meta: SpeechMeta
    truncated: bool
    stated_length: int | None
    gaps: list[dict[str, object]]
    mojibake: bool
    script: str
    index: int

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class CleanResult:
    title: str
    site_name: str | None
    publish_date: str | None
    region: str | None
    speeches: list[Speech]
    removals: list[Removal]
    extracted_chars: int
    needs_review: bool
    extractor: str
    rejected: list[str] = field(default_factory=list)  # why text the page held is not a speech
    cleaner_version: str = CLEANER_VERSION

    @classmethod
    def empty(cls) -> CleanResult:
        """What a body that is no page (a PDF, an image) cleans to."""
        return cls(title="", site_name=None, publish_date=None, region=None, speeches=[], removals=[],
                   extracted_chars=0, needs_review=False, extractor="none")


def _select(root: etree._Element, selector: str | None) -> etree._Element | None:
    if not selector:
        return None
    found = root.xpath(selector) if selector.startswith(("/", "(")) else root.cssselect(selector)
    return found[0] if found else None


@dataclass(frozen=True)
class PageInfo:
    """What the page says about itself, read before any cleaning touches the tree."""

    title: str
    site_name: str | None
    publish_date: str | None


def _page_info(root: etree._Element, rules: SiteRules) -> PageInfo:
    title_el = _select(root, rules.title_selector)
    date_el = _select(root, rules.date_selector)
    date = _iso_date(dom.text_of(date_el)) if date_el is not None else None
    date = date or _iso_date(dom.meta(root, "article:published_time", "pubdate", "publishdate", "PubDate", "date"))
    return PageInfo(title=dom.text_of(title_el) if title_el is not None else dom.page_title(root),
                    site_name=dom.meta(root, "og:site_name", "site_name", "SiteName"), publish_date=date)


def _extract_part(html: str, url: str, rules: SiteRules) -> tuple[PageInfo, list[str], list[Removal], str]:
    """DOM layer for one HTML part: what the page says of itself, body lines, removals, extractor."""
    root = dom.parse(html)
    info = _page_info(root, rules)
    removals = dom.remove_hidden(root)
    body = _select(root, rules.body_selector)
    removals += dom.remove_chrome_blocks(root, keep=body)
    removals += dom.link_lists(root, keep=body)
    if body is not None:
        dom.link_targets(body)
        return info, dom.lines(body), removals, "selector"
    dom.link_targets(root)
    block = dom.main_block(root)
    if block is not None:
        tables = dom.following_tables(block)
        text, outside = dom.lines_around(root, block)
        if tables:  # the tables that continue the text are read with it, not recorded as left out
            text = text + [ln for t in tables for ln in dom.lines(t)]
            outside = _without(outside, text)
        return info, text, removals + [Removal("extract.outside", ln) for ln in outside if len(ln) >= 6], "density"
    # fast=True: no fallback extractors; on these pages it is both quicker and more accurate.
    import trafilatura  # the fallback only, imported on first need: it slows every command's start

    extracted = trafilatura.extract(root, url=url or None, fast=True, favor_recall=True, include_comments=False,
                                    include_tables=True, include_links=False, deduplicate=False,
                                    output_format="txt")
    if extracted and len(extracted) > 50:
        return info, _trafilatura_lines(extracted), removals, "trafilatura"
    main = root.find("body")
    return info, dom.lines(main if main is not None else root), removals, "fallback"


def _without(lines: list[str], taken: list[str]) -> list[str]:
    """``lines`` less one occurrence of each line in ``taken``."""
    left = Counter(taken)
    out = []
    for line in lines:
        if left[line] > 0:
            left[line] -= 1
        else:
            out.append(line)
    return out


def _trafilatura_lines(extracted: str) -> list[str]:
    """trafilatura's text as lines: table rows ("| a | b |") split into cells, and a list bullet
    it left on a line of its own joined to the item that follows."""
    out: list[str] = []
    for line in extracted.splitlines():
        if line.lstrip().startswith("|"):
            out += [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        elif out and out[-1].strip() in ("-", "*", "•"):
            out[-1] = "- " + line.strip()
        else:
            out.append(line)
    return [ln.replace("\\|", "|").strip() for ln in out if ln.strip()]


def _run(paras: list[Para], removals: list[Removal], facts: dict[str, object], out: StepOut) -> list[Para]:
    removals.extend(out.removals)
    for k, v in out.facts.items():
        facts.setdefault(k, v)
    return out.paras


@dataclass(frozen=True)
class Limits:
    """The sizes cleaning decides by. The archive passes the user's (``settings.py`` takes its
    defaults from here), so cleaning reads no global state and runs alike in any process."""

    max_chars: int = 200_000  # longest text archived as a speech; twice that on a page is a dump
    min_chars: int = 120  # shortest piece a split page keeps apart (shorter ones are merged)
    review_share: float = 0.6  # share of the extracted text whose removal flags the page for review


def clean_page(parts: list[str], url: str = "", rules: SiteRules | None = None,
               limits: Limits = Limits()) -> CleanResult:  # noqa: B008 - frozen, so shared safely
    """Clean a page given as its HTML parts (several for an article split over pages)."""
    rules = rules or SiteRules()
    removals: list[Removal] = []
    paras: list[Para] = []
    info: PageInfo | None = None
    extractor = ""
    for html in parts:
        part_info, lines, dropped, extractor = _extract_part(html, url, rules)
        info = info or part_info
        paras += lines
        removals += dropped
    assert info is not None, "clean_page needs at least one part"
    title = info.title
    facts: dict[str, object] = {}
    extracted_chars = sum(len(p) for p in texts(paras))
    max_chars = limits.max_chars
    if extracted_chars > 2 * max_chars:  # a dump, not a page of speeches: not worth cleaning
        reason = f"longer than {max_chars} characters ({extracted_chars} extracted)"
        return CleanResult(title=title, site_name=info.site_name, publish_date=info.publish_date, region=None,
                           speeches=[], removals=removals + [Removal("junk.not_prose", reason)],
                           extracted_chars=extracted_chars, needs_review=True, extractor=extractor, rejected=[reason])

    paras = _run(paras, removals, facts, text.normalise(paras))
    prefold(texts(paras))
    paras = _run(paras, removals, facts, text.apply_source_rules(paras, rules.noise_patterns()))
    paras = _run(paras, removals, facts, text.remove_paywall(paras))
    paras = _run(paras, removals, facts, text.remove_watermarks(paras))
    paras = _run(paras, removals, facts, text.remove_chrome(paras))
    paras = _run(paras, removals, facts, text.remove_site_voice(paras))
    paras = _run(paras, removals, facts, text.remove_title_repeats(paras, title))
    paras = _run(paras, removals, facts, text.remove_repeated_blocks(paras))

    min_chars = limits.min_chars
    segments, split_removals = split_speeches(paras, min_chars)
    removals += split_removals
    speeches = []
    rejected: list[str] = []
    for n, seg in enumerate(segments):
        seg_title = seg.title or (title if len(segments) == 1 else
                                  f"{title}({n + 1})" if title else _opening_words(seg.paras))
        body, header_removals, meta = take_header(seg.paras, seg_title)
        removals += header_removals
        paragraphs = texts(body)
        joined = "\n".join(paragraphs)
        reason = not_prose(joined, max_chars)
        if reason:
            rejected.append(reason)
            removals.append(Removal("junk.not_prose", f"{reason}: {joined[:200]}"))
            continue
        flags = gap_flags(body)
        speeches.append(Speech(seg_title, paragraphs, meta, bool(flags["truncated"]), flags["stated_length"],
                               flags["gaps"], has_mojibake(joined), script_of(joined), len(speeches)))
    kept = sum(len(s.text) for s in speeches)
    needs_review = extracted_chars > 0 and (1 - kept / extracted_chars) > limits.review_share
    return CleanResult(title=title, site_name=info.site_name, publish_date=info.publish_date or facts.get("publish_date"),
                       region=facts.get("region"), speeches=speeches, removals=removals,
                       extracted_chars=extracted_chars, needs_review=needs_review or not speeches,
                       extractor=extractor, rejected=rejected)


def _opening_words(paras: list[Para], n: int = 16) -> str:
    """A stand-in title for an untitled piece of an untitled page: its first words."""
    first = next((p for p in paras if isinstance(p, str)), "")
    return first[:n] + ("…" if len(first) > n else "")


def _iso_date(value: str | None) -> str | None:
    if not value:
        return None
    m = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})", value)
    return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None
