"""Running one crawl of one source in this process (the CLI and the demo use it)."""

from __future__ import annotations

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

import settings as app_settings
from crawler.sources import Source
from crawler.spiders.speeches import SpeechSpider


# Scrapy imports every component a setting names, even one set to None, before it finds it disabled:
# these two, disabled in settings.py, are left out of its base lists instead. Their imports (aiohttp;
# tldextract and requests) cost every crawl's start 135-154 and 59-93 ms of CPU.
_LEFT_OUT = {("EXTENSIONS_BASE", "REMOTE_CONTROL_ENABLED"): "scrapy.extensions.remote_control.RemoteControl",
             ("DOWNLOADER_MIDDLEWARES_BASE", "COOKIES_ENABLED"): "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"}


def crawl_settings(source: Source, db_url: str, log_level: str = "WARNING", progress: bool = True,
                   run: str | None = None) -> Settings:
    """Scrapy settings for one crawl; ``run`` joins the shared crawl of that key in Redis."""
    s = Settings()
    s.setmodule(app_settings, priority="project")
    s.set("ARCHIVE_DB", db_url)
    s.set("DOWNLOAD_DELAY", source.delay)
    s.set("CONCURRENT_REQUESTS_PER_DOMAIN", source.concurrency)
    # Scrapy takes up to CONCURRENT_REQUESTS (16) off the queue into the site's download slot, and a
    # stopped crawl (SIGTERM, its starter killed) downloads all of them before it closes: with a polite
    # delay that took over a minute on a loaded machine. A crawl is of one site: keep in hand only a
    # little more than the site is fetched with at once.
    s.set("CONCURRENT_REQUESTS", 2 * source.concurrency)
    s.set("CLOSESPIDER_PAGECOUNT", source.max_pages)
    s.set("LOG_LEVEL", log_level)
    s.set("PROGRESS_ENABLED", progress)
    s.set("LOG_INSTALL_ROOT_HANDLER", True)
    for (components, enabled), path in _LEFT_OUT.items():
        if not s.getbool(enabled):
            s.set(components, {k: v for k, v in s.getdict(components).items() if k != path})
    if run:
        from crawler import frontier  # Redis and scrapy-redis, for shared crawls only

        shared = frontier.scrapy_settings(run, str(app_settings.get("redis_url")),
                                          int(app_settings.get("frontier_capacity")),
                                          float(app_settings.get("frontier_error")))
        for name, value in shared.items():
            s.set(name, value)
    return s


def run_crawl(source: Source, db_url: str, log_level: str = "WARNING", progress: bool = True,
              run: str | None = None) -> dict:
    """Crawl ``source`` into the archive at ``db_url``; returns the crawl's stats."""
    process = CrawlerProcess(crawl_settings(source, db_url, log_level, progress, run))
    crawler = process.create_crawler(SpeechSpider)
    process.crawl(crawler, source=source)
    process.start()
    return crawler.stats.get_stats()
