"""``speech-archive sources init URL``: crawl a small sample of a new site without archiving it, say
what was found, and write a commented source file with the address patterns the sample taught.

The archivist reviews and keeps the file; the patterns only refine — a source file with just the
name and start URL crawls by discovery as well.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.crawler import CrawlerProcess

from crawler import discover
from crawler.run import crawl_settings
from crawler.sources import SourceError, parse_source
from crawler.spiders.speeches import SpeechSpider

SAMPLE_REQUESTS = 60


@dataclass
class Survey:
    """What a sample crawl of one site found."""

    url: str
    requests: int
    delay: float
    articles: list[tuple[str, int, str]] = field(default_factory=list)  # shape, pages, an example
    lists: list[tuple[str, int, str]] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    traps: Counter[str] = field(default_factory=Counter)
    barren: list[str] = field(default_factory=list)  # shapes tried and given up
    encodings: Counter[str] = field(default_factory=Counter)
    forbidden: int = 0


def name_for(url: str) -> str:
    """A source name from the site's host: ``www.xuexila.com`` → ``xuexila``."""
    host = (urlsplit(url).hostname or "site").lower()
    labels = [part for part in host.split(".") if part not in ("www", "m", "wap")]
    core = labels[:-1] if len(labels) > 1 and not host.replace(".", "").isdigit() else labels
    name = re.sub(r"[^a-z0-9]+", "-", "-".join(core or labels)).strip("-")
    return name or "site"


def survey(url: str, requests: int = SAMPLE_REQUESTS, delay: float = 0.5, log_level: str = "ERROR") -> Survey:
    """Crawl at most ``requests`` pages of the site at ``url`` by discovery, ``delay`` seconds
    apart, archiving nothing."""
    source = parse_source({"name": name_for(url), "start_urls": [url], "politeness": {"delay": delay}},
                          Path("<sources init>"))
    settings = crawl_settings(source, db_url="", log_level=log_level, progress=False)
    settings.set("ITEM_PIPELINES", {})
    settings.set("CLOSESPIDER_PAGECOUNT", requests)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SpeechSpider)
    process.crawl(crawler, source=source, sample=True)
    process.start()
    spider: SpeechSpider = crawler.spider
    stats = crawler.stats.get_stats()
    examples = spider.examples
    return Survey(url=url, delay=delay, requests=int(stats.get("downloader/request_count", 0)),
                  articles=[(s, n, examples.get(s, "")) for s, n in spider.shapes.learned(discover.ARTICLE)],
                  lists=[(s, n, examples.get(s, "")) for s, n in spider.shapes.learned(discover.LIST)],
                  sitemaps=spider.found["sitemaps"], feeds=spider.found["feeds"], traps=spider.traps,
                  barren=spider.shapes.barren(), encodings=spider.encodings,
                  forbidden=int(stats.get("robotstxt/forbidden", 0)))


def report(s: Survey) -> list[str]:
    """What the sample found, for the archivist to read."""
    lines = [f"sampled {s.url} with {s.requests} requests"]
    lines.append(f"  article pages: {sum(n for _, n, _ in s.articles)} in {len(s.articles)} address shapes")
    lines += [f"    {n:>4}  {shape}   e.g. {example}" for shape, n, example in s.articles]
    lines.append(f"  list pages: {sum(n for _, n, _ in s.lists)} in {len(s.lists)} address shapes")
    lines += [f"    {n:>4}  {shape}" for shape, n, _ in s.lists]
    lines.append(f"  sitemaps: {', '.join(s.sitemaps) or 'none found'}")
    lines.append(f"  feeds: {', '.join(s.feeds) or 'none found'}")
    traps = ", ".join(f"{kind} {n}" for kind, n in s.traps.most_common())
    lines.append(f"  traps skipped: {traps or 'none'}; shapes given up: {len(s.barren)}")
    lines.append(f"  encodings: {', '.join(f'{e} ({n})' for e, n in s.encodings.most_common()) or 'no page decoded'}")
    if s.forbidden:
        lines.append(f"  robots.txt forbade {s.forbidden} requests")
    if not s.articles:
        lines.append("  no article page found: check the start URL, or whether the site renders its text with JavaScript")
    return lines


def _toml_list(key: str, rows: list[tuple[str, str]]) -> list[str]:
    """A TOML array of literal strings, one per line with its comment."""
    if not rows:
        return [f"# {key} = []  # none found in the sample"]
    return [f"{key} = ["] + [f"  '{value}',  # {comment}" for value, comment in rows] + ["]"]


def source_toml(s: Survey, name: str) -> str:
    """A commented source file for the archivist to review: what the sample showed, as patterns."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# Written by `speech-archive sources init` on {when} from a sample of {s.requests} requests to",
             f"# {s.url}. Review it before keeping it. The patterns are the address shapes the sample showed;",
             "# delete them and the crawler finds articles and lists on its own (see docs/sources.md).",
             f'name = "{name}"', f'start_urls = ["{s.url}"]', ""]
    lines += _toml_list("article_patterns", [(discover.shape_pattern(sh), f"{n} pages, e.g. {ex}") for sh, n, ex in s.articles])
    lines += _toml_list("list_patterns", [(discover.shape_pattern(sh), f"{n} pages") for sh, n, _ in s.lists])
    lines += _toml_list("sitemaps", [(u, "found in robots.txt or at /sitemap.xml") for u in s.sitemaps])
    lines += _toml_list("feeds", [(u, "announced in a page's head") for u in s.feeds])
    if s.traps:
        lines.append(f"# traps skipped in the sample (no deny pattern needed): {dict(s.traps.most_common())}")
    encodings = [e for e in s.encodings if e.lower().replace("-", "") not in ("utf8", "ascii")]
    if encodings:
        lines.append(f"# pages came in {', '.join(encodings)}; set `encoding` only if the text comes out garbled")
    lines += ["", '# schedule = "0 3 * * *"  # a cron line: crawl daily at 03:00', "", "[politeness]",
              f"delay = {s.delay:g}  # seconds between requests to the site", "concurrency = 2", ""]
    return "\n".join(lines)


def write_source(s: Survey, name: str, path: Path, force: bool = False) -> Path:
    """Write the source file, checked by the same parser every crawl uses; never over an existing one
    unless ``force``."""
    if path.exists() and not force:
        raise SourceError(f"{path} exists already; give another --out or --force")
    text = source_toml(s, name)
    parse_source(tomllib.loads(text), path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
