"""The generic spider: list pages, pagination, sitemaps, feeds and multi-page articles, from a source file.

Run it as ``speech-archive crawl NAME`` or ``scrapy crawl speeches -a source=NAME``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlparse

import scrapy
from lxml import etree
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap

from archive.store import Fetched
from cleaners.content import not_html
from crawler.encoding import decode_html
from crawler import revisit
from crawler.items import PageItem
from crawler.sources import Source, load_source
from crawler.urls import canonical, is_continuation

NEXT_WORDS = ("下一页", "下页", "后一页", "下一頁", "下頁", "next", "›", "»", ">")


class SpeechSpider(scrapy.Spider):
    name = "speeches"

    def __init__(self, source: str | Source | None = None, **kwargs) -> None:  # noqa: ANN003 - scrapy kwargs
        super().__init__(**kwargs)
        if source is None:
            raise ValueError("give a source: scrapy crawl speeches -a source=NAME")
        self.source = source if isinstance(source, Source) else load_source(source)
        self.allowed_domains = list(self.source.allowed_domains)
        self.archived: dict[str, revisit.Archived] = {}
        self.skipped: set[str] = set()  # archived articles linked this run and not fetched

    async def start(self):  # noqa: ANN201 - Scrapy ≥ 2.13 start hook, an async generator of requests
        self.archived = revisit.archived_pages(self.settings.get("ARCHIVE_DB"), self.source.name)
        for url in self.source.start_urls:
            yield scrapy.Request(url, callback=self.parse_listing)
        for url in self.source.sitemaps:
            yield scrapy.Request(url, callback=self.parse_sitemap)
        for url in self.source.feeds:
            yield scrapy.Request(url, callback=self.parse_feed)

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

    def _follow(self, url: str, lastmod: str | None = None) -> scrapy.Request | None:
        url = canonical(url)
        if not self._allowed(url):
            self.crawler.stats.inc_value("crawl/link_denied")
            return None
        if self._is_article(url):
            return self._article_request(url, lastmod)
        if self._is_listing(url):
            return scrapy.Request(url, callback=self.parse_listing)
        return None

    def _article_request(self, url: str, lastmod: str | None) -> scrapy.Request | None:
        """A request for an article page: none if it is archived and not due, conditional if due again."""
        known = self.archived.get(url)
        if known is None:
            return scrapy.Request(url, callback=self.parse_article)
        if not revisit.due(known, self.source.revisit_days, revisit.parse_lastmod(lastmod)):
            if url not in self.skipped:
                self.skipped.add(url)
                self.crawler.stats.inc_value("crawl/skipped_archived")
            return None
        return scrapy.Request(url, callback=self.parse_article, headers=known.validators(),
                              meta={"handle_httpstatus_list": [304]})

    # --- callbacks -----------------------------------------------------------------------------
    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            req = self._follow(response.urljoin(href))
            if req is not None:
                yield req

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, ValueError):
            self.logger.warning("not a sitemap: %s", response.url)
            return
        for entry in sitemap:
            loc = entry.get("loc", "")
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, callback=self.parse_sitemap)
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
        return Fetched(url=requested, final_url=response.url, canonical_url=canonical(response.url),
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
        sel = scrapy.Selector(text=text)
        declared = sel.css('link[rel="canonical"]::attr(href)').get()
        if declared:
            target = canonical(response.urljoin(declared))
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
        for a in sel.css("a"):
            label = "".join(a.css("::text").getall()).strip().lower()
            href = a.attrib.get("href")
            if not href or label not in NEXT_WORDS:
                continue
            url = canonical(response.urljoin(href))
            if url not in seen and is_continuation(first, url) and len(item.parts) < 50:
                yield scrapy.Request(url, callback=self.parse_part, meta={"item": item}, dont_filter=True)
                return
        yield item
