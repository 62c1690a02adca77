"""The crawl's memory ceiling: a crawl whose resident memory passes ``memory_ceiling_mb`` stops,
and its run is recorded interrupted with the reason.

Scrapy's own MemoryUsage extension reads ``ru_maxrss``, which on Linux a child inherits from the
process that started it (a crawl started by a 500 MB parent would stop at once); this one reads
the process's own current resident set from /proc.
"""

from __future__ import annotations

import logging

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

log = logging.getLogger(__name__)
REASON = "memory_ceiling"


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status (Linux only)")


class MemoryCeiling:
    def __init__(self, crawler: Crawler, ceiling_mb: float, every: float) -> None:
        self.crawler = crawler
        self.ceiling_mb = ceiling_mb
        self.loop = task.LoopingCall(self.check)
        self.every = every

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MemoryCeiling:
        ceiling = crawler.settings.getfloat("MEMORY_CEILING_MB")
        if ceiling <= 0:
            raise NotConfigured
        ext = cls(crawler, ceiling, crawler.settings.getfloat("MEMORY_CHECK_SECONDS", 1.0))
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def opened(self) -> None:
        self.loop.start(self.every, now=True)

    def closed(self) -> None:
        if self.loop.running:
            self.loop.stop()

    def check(self) -> None:
        now = rss_mb()
        stats = self.crawler.stats
        stats.max_value("memory/peak_rss_mb", round(now))
        if now > self.ceiling_mb and self.crawler.engine is not None:
            log.error("memory %.0f MB is past the ceiling of %.0f MB (setting memory_ceiling_mb): stopping the crawl",
                      now, self.ceiling_mb)
            self.loop.stop()
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=REASON))
