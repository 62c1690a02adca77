"""The generic spider: list pages, pagination, sitemaps, feeds and multi-page articles, from a source file.

A source file with URL patterns says which links are lists and which are articles. Without them the
spider finds out itself (``crawler.discover``): it classifies each page it fetches, learns the
site's address shapes, looks for sitemaps in robots.txt and feeds in the pages, and skips traps.

Run it as ``speech-archive crawl NAME`` or ``scrapy crawl speeches -a source=NAME``.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlparse

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from archive.storage.store import Fetched
from cleaners import dom
from cleaners.content import not_html
from cleaners.dom import PageError
from crawler import discover, revisit
from crawler.encoding import decode_html
from crawler.items import PageItem
from crawler.sources import Source, load_source
from crawler.urls import article_stem, canonical, is_continuation

MAX_LINKS = 10_000  # links read from one page: a page of more is a dump or a trap, not a list to follow whole


class SpeechSpider(scrapy.Spider):
    name = "speeches"

    def __init__(self, source: str | Source | None = None, sample: bool = False, **kwargs) -> None:  # noqa: ANN003
        """``sample``: a survey of a new site (``sources init``) that reads no archive."""
        super().__init__(**kwargs)
        self.sample = sample
        if source is None:
            raise ValueError("give a source: scrapy crawl speeches -a source=NAME")
        self.source = source if isinstance(source, Source) else load_source(source)
        self.allowed_domains = list(self.source.allowed_domains)
        self.canonical = functools.partial(canonical, drop=self.source.drop_params)
        self.archived: dict[str, revisit.Archived] = {}
        self.skipped: set[str] = set()  # archived articles linked this run and not fetched
        # discovery (no patterns in the source file): what the crawl learned and found on the way
        self.discovering = not (self.source.article_patterns or self.source.list_patterns)
        self.shapes = discover.Shapes()
        self.seen: set[str] = set()
        self.found: dict[str, list[str]] = {"sitemaps": [], "feeds": []}
        self.traps: Counter[str] = Counter()
        self.encodings: Counter[str] = Counter()
        self.examples: dict[str, str] = {}  # an address of each shape classified

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN206 - Scrapy's hook
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.dropped, signal=signals.request_dropped)
        return spider

    def dropped(self, request: scrapy.Request) -> None:
        """A redirect back to an address of its own chain, dropped as seen: a redirect loop."""
        chain = {self.canonical(u) for u in request.meta.get("redirect_urls", [])}
        if self.canonical(request.url) in chain:
            self.crawler.stats.inc_value("crawl/redirect_loop")

    async def start(self):  # noqa: ANN201 - Scrapy ≥ 2.13 start hook, an async generator of requests
        if not self.sample:
            self.archived = revisit.archived_pages(self.settings.get("ARCHIVE_DB"), self.source.name)
        for url in self.archived if self.discovering else ():
            self.shapes.known(url)
        for url in self.source.start_urls:
            if self.discovering:
                self.seen.add(self.canonical(url))
                yield self._discovery_request(url)
            else:
                yield scrapy.Request(url, callback=self.parse_listing, errback=self.failed)
        if self.discovering and not self.source.sitemaps:  # look for them where sites announce them
            for root in dict.fromkeys(f"{urlparse(u).scheme}://{urlparse(u).netloc}" for u in self.source.start_urls):
                yield scrapy.Request(f"{root}/robots.txt", callback=self.parse_robots, errback=self.failed,
                                     meta={"handle_httpstatus_list": [403, 404, 410]})
        for url in self.source.sitemaps:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.failed)
        for url in self.source.feeds:
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.failed)

    # --- classification ------------------------------------------------------------------------
    def _allowed(self, url: str) -> bool:
        host = urlparse(url).hostname or ""
        if not any(host == d or host.endswith("." + d) for d in self.source.allowed_domains):
            return False
        return not any(p.search(url) for p in self.source.deny_patterns)

    def _is_article(self, url: str) -> bool:
        return any(p.search(url) for p in self.source.article_patterns)

    def _is_listing(self, url: str) -> bool:
        return any(p.search(url) for p in self.source.list_patterns)

    def _follow(self, url: str, lastmod: str | None = None, anchor: str = "") -> scrapy.Request | None:
        if len(url) > self.settings.getint("URLLENGTH_LIMIT", 2083):  # before any work on it: a trap, or junk
            self.crawler.stats.inc_value("urllength/request_ignored_count")
            return None
        url = self.canonical(url)
        if not self._allowed(url):
            self.crawler.stats.inc_value("crawl/link_denied")
            return None
        if self.discovering:
            return self._discover(url, lastmod, anchor)
        if self._is_article(url):
            return self._article_request(url, lastmod)
        if self._is_listing(url):
            return scrapy.Request(url, callback=self.parse_listing, errback=self.failed)
        return None

    def _article_request(self, url: str, lastmod: str | None) -> scrapy.Request | None:
        """A request for an article page: none if it is archived and not due, conditional if due again."""
        known = self.archived.get(url)
        if known is None:
            return scrapy.Request(url, callback=self.parse_article, errback=self.failed)
        if not revisit.due(known, self.source.revisit_days, revisit.parse_lastmod(lastmod)):
            if url not in self.skipped:
                self.skipped.add(url)
                self.crawler.stats.inc_value("crawl/skipped_archived")
            return None
        return scrapy.Request(url, callback=self.parse_article, errback=self.failed, headers=known.validators(),
                              meta={"handle_httpstatus_list": [304]})

    def _discover(self, url: str, lastmod: str | None, anchor: str) -> scrapy.Request | None:
        """Whether and how to fetch ``url`` when the source file names no patterns."""
        if url in self.archived:
            return self._article_request(url, lastmod)
        stem = article_stem(url)
        if url in self.seen or stem in self.seen:  # known, or a later page of a known article
            return None
        reason = discover.trap(url)
        if reason:
            self.seen.add(url)
            self.traps[reason] += 1
            self.crawler.stats.inc_value(f"discover/trap_skipped/{reason}")
            return None
        next_page = discover.is_pagination(url, anchor)
        verdict = self.shapes.admit(url, force=next_page)
        if verdict == "skip":
            self.crawler.stats.inc_value("discover/shape_skipped")
            return None
        self.seen.add(url)
        return self._discovery_request(url, next_page) if verdict == "fetch" else None

    def _discovery_request(self, url: str, next_page: bool = False) -> scrapy.Request:
        """``next_page``: the next page of a list is as deep as the list (a list of 50 pages is not
        cut at ``depth_limit``); a list that stops giving new links is stopped by its shape's budget."""
        return scrapy.Request(url, callback=self.parse_page, errback=self.failed,
                              meta={"shape_of": self.canonical(url), "depth_reset": next_page})

    def _learn(self, response_or_request: Response | scrapy.Request, kind: str,
               useful: bool = True) -> Iterator[scrapy.Request]:
        """Count a fetched page's kind and send the addresses its shape now lets through."""
        url = response_or_request.meta.get("shape_of")
        if url is None:
            return
        self.crawler.stats.inc_value(f"discover/{kind}")
        self.examples.setdefault(discover.shape(url), url)
        self.examples.setdefault(discover.family(discover.shape(url)), url)
        for waiting in self.shapes.learn(url, kind, useful):
            yield self._discovery_request(waiting)

    # --- callbacks -----------------------------------------------------------------------------
    def _capped(self, anchors: list) -> list:
        if len(anchors) > MAX_LINKS:
            self.crawler.stats.inc_value("crawl/links_capped")
        return anchors[:MAX_LINKS]

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        for href in self._capped(response.css("a::attr(href)").getall()):
            req = self._follow(response.urljoin(href))
            if req is not None:
                yield req

    def parse_page(self, response: Response) -> Iterator[scrapy.Request | PageItem]:
        """A page fetched to find out what it is: an article is archived, and every page's links,
        feeds and next pages are followed as far as their shapes have earned."""
        what = not_html(response.body, response.headers.get("Content-Type", b"").decode("latin-1"))
        if what:
            self.crawler.stats.inc_value("discover/not_html")
            self.logger.info("not an HTML page, not archived: %s (%s)", response.url, what)
            yield from self._learn(response, discover.OTHER)
            return
        fetched, text = self._fetched(response)
        self.encodings[fetched.encoding] += 1
        try:  # the cleaners' parser: it keeps the text of NUL-ridden and 10,000-deep markup
            root = dom.parse(text)
        except PageError:
            yield from self._learn(response, discover.OTHER)
            return
        links = [(response.urljoin(a.get("href").strip()), a.text_content()) for a in self._capped(root.xpath("//a[@href]"))]
        kind = discover.classify(root)
        first = fetched.canonical_url
        useful = True
        if kind == discover.ARTICLE:
            self.seen.add(article_stem(first))
            links = [(u, t) for u, t in links if not is_continuation(first, self.canonical(u))]
        elif kind == discover.LIST:  # a list that leads nowhere new: a calendar page, an archive of the same links
            useful = any(self.canonical(u) not in self.seen and discover.title_like(t) for u, t in links)
        yield from self._learn(response, kind, useful)
        for href in root.xpath("//link[contains(@rel, 'alternate')][contains(@type, 'rss') or contains(@type, 'atom')]/@href"):
            feed = self.canonical(response.urljoin(href))
            if self._allowed(feed) and feed not in self.found["feeds"] and feed not in self.source.feeds:
                self.found["feeds"].append(feed)
                yield scrapy.Request(feed, callback=self.parse_feed, errback=self.failed)
        for url, anchor in links:
            req = self._follow(url, anchor=anchor)
            if req is not None:
                yield req
        if kind == discover.ARTICLE:
            yield from self._archive_article(response, fetched, text, scrapy.Selector(text=text))

    def failed(self, failure: Failure) -> Iterator[scrapy.Request | PageItem]:
        """A request that came to nothing: the faults Scrapy only logs are counted for the run's
        report, and a dead link teaches its shape too (as a page that held nothing)."""
        message = str(failure.value)
        if failure.check(HttpError):  # an errback takes these from HttpErrorMiddleware, which counts them otherwise
            self.crawler.stats.inc_value("httperror/response_ignored_count")
            self.crawler.stats.inc_value(f"httperror/response_ignored_status_count/{failure.value.response.status}")
        elif failure.check(IgnoreRequest) and "max redirections" in message:
            self.crawler.stats.inc_value("crawl/redirect_loop")
        elif failure.check(IgnoreRequest) and "DOWNLOAD_MAXSIZE" in message:
            self.crawler.stats.inc_value("crawl/too_large")
        item = failure.request.meta.get("item")
        if item is not None:  # a later page of an article failed: archive the pages it has
            self.crawler.stats.inc_value("crawl/part_failed")
            yield item
        yield from self._learn(failure.request, discover.OTHER)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """``Sitemap:`` lines of robots.txt; without any, the customary ``/sitemap.xml`` is tried."""
        lines = response.text.splitlines() if response.status == 200 and hasattr(response, "text") else []
        maps = [line.split(":", 1)[1].strip() for line in lines if line.lower().startswith("sitemap:")]
        for url in maps or [response.urljoin("/sitemap.xml")]:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.failed,
                                 meta={"handle_httpstatus_list": [403, 404, 410]})

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        if response.status != 200:
            return
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, ValueError):
            self.logger.warning("not a sitemap: %s", response.url)
            return
        if response.url not in self.found["sitemaps"]:
            self.found["sitemaps"].append(response.url)
        for entry in sitemap:
            loc = entry.get("loc", "")
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.failed)
            else:
                req = self._follow(loc, entry.get("lastmod"))
                if req is not None:
                    yield req

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS <item><link> and Atom <entry><link href>."""
        try:
            root = etree.fromstring(response.body, parser=etree.XMLParser(recover=True, resolve_entities=False))
        except etree.XMLSyntaxError:
            self.logger.warning("not a feed: %s", response.url)
            return
        if root is None:
            return
        links = root.xpath("//*[local-name()='item']/*[local-name()='link']/text()")
        links += root.xpath("//*[local-name()='entry']/*[local-name()='link']/@href")
        for link in links:
            req = self._follow(link.strip())
            if req is not None:
                yield req

    def _fetched(self, response: Response, binary: bool = False) -> tuple[Fetched, str]:
        header = response.headers.get("Content-Type", b"").decode("latin-1")
        charset = header.split("charset=")[-1].strip() if "charset=" in header else None
        text, encoding = ("", "binary") if binary else decode_html(response.body, charset, self.source.encoding)
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        requested = response.request.meta.get("redirect_urls", [response.url])[0] if response.request else response.url
        return Fetched(url=requested, final_url=response.url, canonical_url=self.canonical(response.url),
                       status=response.status, headers=headers, encoding=encoding, body=response.body,
                       fetched_at=datetime.now(UTC)), text

    def parse_article(self, response: Response) -> Iterator[scrapy.Request | PageItem]:
        if response.status == 304:
            self.crawler.stats.inc_value("crawl/not_modified")
            return
        what = not_html(response.body, response.headers.get("Content-Type", b"").decode("latin-1"))
        if what:
            self.logger.warning("not an HTML page, kept raw without cleaning: %s (%s)", response.url, what)
            yield PageItem(self.source.name, [self._fetched(response, binary=True)[0]], [""], not_html=what)
            return
        fetched, text = self._fetched(response)
        yield from self._archive_article(response, fetched, text, scrapy.Selector(text=text))

    def _archive_article(self, response: Response, fetched: Fetched, text: str,
                         sel: scrapy.Selector) -> Iterator[scrapy.Request | PageItem]:
        """The article as an item (with its later pages), or a request for the address it names canonical."""
        declared = sel.css('link[rel="canonical"]::attr(href)').get()
        if declared:
            target = self.canonical(response.urljoin(declared))
            if target != fetched.canonical_url and self._allowed(target):
                self.crawler.stats.inc_value("crawl/canonical_redirect")
                request = self._article_request(target, None)
                if request is not None:
                    yield request
                return
        yield from self._next_part(response, sel, PageItem(self.source.name, [fetched], [text]))

    def parse_part(self, response: Response) -> Iterator[scrapy.Request | PageItem]:
        item: PageItem = response.meta["item"]
        fetched, text = self._fetched(response)
        item.parts.append(fetched)
        item.text_parts.append(text)
        yield from self._next_part(response, scrapy.Selector(text=text), item)

    def _next_part(self, response: Response, sel: scrapy.Selector, item: PageItem) -> Iterator:
        first = item.parts[0].canonical_url
        seen = {p.canonical_url for p in item.parts}
        for a in sel.root.iter("a"):  # lxml itself: a CSS query per link cost the reactor ~1 ms a page
            href = a.get("href")
            if not href or a.text_content().strip().lower() not in discover.NEXT_WORDS:
                continue
            url = self.canonical(response.urljoin(href))
            if url not in seen and is_continuation(first, url) and len(item.parts) < 50:
                yield scrapy.Request(url, callback=self.parse_part, errback=self.failed, meta={"item": item}, dont_filter=True)
                return
        yield item
