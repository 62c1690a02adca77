"""A one-line progress display on stderr while a crawl runs (pages, speeches, duplicates, errors)."""

from __future__ import annotations

import sys
import time

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class Progress:
    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        if not crawler.settings.getbool("PROGRESS_ENABLED", True):
            raise NotConfigured
        ext = cls(crawler)
        crawler.signals.connect(ext.tick, signal=signals.item_scraped)
        crawler.signals.connect(ext.tick, signal=signals.response_received)
        crawler.signals.connect(ext.done, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        get = self.stats.get_value
        return (f"fetched {get('response_received_count', 0)} · pages {get('archive/pages', 0)} · "
                f"speeches {get('archive/stored', 0)} · duplicates {get('archive/duplicate', 0)} · "
                f"flagged {get('clean/flagged', 0)} · errors {get('clean/failed', 0) + get('log_count/ERROR', 0)}")

    def tick(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - signal handler
        now = time.monotonic()
        if now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        sys.stderr.write(("\r" if self.tty else "") + self.line() + ("" if self.tty else "\n"))
        sys.stderr.flush()

    def done(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - signal handler
        sys.stderr.write(("\r" if self.tty else "") + self.line() + "\n")
        sys.stderr.flush()
