"""Item pipeline: every fetched page is archived raw, cleaned, and its speeches stored and grouped.

One transaction per page: a crash or kill loses at most the page in hand, never what is archived.
Outcomes are counted in crawl stats (``archive/*``, ``clean/*``) and on the run's row.
"""

from __future__ import annotations

from urllib.parse import urlparse

from scrapy.crawler import Crawler
from sqlalchemy.orm import Session

from archive import health, store
from archive.db import open_archive, sessions
from archive.learn import site_boilerplate
from archive.models import CrawlRun
from cleaners import PageError
from crawler.frontier import RUN_OVER
from crawler.items import PageItem


RELEARN_EVERY = 50


class ArchivePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = crawler.settings.get("ARCHIVE_DB")
        self.run_id: int | None = None
        self.learned: dict[str, tuple[frozenset[str], int]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.engine = open_archive(self.db_url, writer=True)
        self.Session = sessions(self.engine)
        spider = self.crawler.spider
        with self.Session.begin() as session:
            self.source = store.ensure_source(session, spider.source.name, spider.source.raw)
            self.run_id = store.start_run(session, self.source, self.crawler.settings.get("FRONTIER_RUN")).id
        self.crawler.stats.set_value("archive/run_id", self.run_id)

    def close_spider(self) -> None:
        # Scrapy records the close reason only after the pipelines have closed: a crawler told to stop
        # (SIGTERM, Ctrl-C) no longer counts as crawling, and JoinGate records its own reason
        reason = self.crawler.stats.get_value("finish_reason") or ("finished" if self.crawler.crawling else "shutdown")
        if reason == RUN_OVER:  # joined a shared crawl as it ended: it did nothing and is no part of it
            with self.Session.begin() as session:
                session.delete(session.get(CrawlRun, self.run_id))
            self.engine.dispose()
            return
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        shared = self.crawler.settings.get("FRONTIER_RUN")
        with self.Session.begin() as session:
            run = session.get(CrawlRun, self.run_id)
            run.errors += errors_in(stats)
            stats["archive/errors"] = run.errors
            status = "finished" if reason == "finished" else "interrupted"
            store.finish_run(session, run, status, {**stats, **({"shared_run": shared} if shared else {})})
            # a process of a shared crawl holds a part of it: the last one out judges the whole crawl
            reasons = health.judge(session, [run]) if status == "finished" and not shared else []
        if reasons:
            health.alert_degraded(self.source.name, [run], reasons)
        self.engine.dispose()

    def process_item(self, item: PageItem) -> PageItem:
        source = self.crawler.spider.source
        first = item.parts[0]
        rules = source.rules_for(first.canonical_url)
        with self.Session.begin() as session:
            run = session.get(CrawlRun, self.run_id)
            same = store.same_body(session, self.source, first)
            if any(c.canonical_url == first.canonical_url for c in same):
                self.stats.inc_value("archive/unchanged")
                return item
            alias = next((c for c in same if c.note is None), None) if len(item.parts) == 1 else None
            root = store.save_capture(session, self.source, run, first)
            for n, part in enumerate(item.parts[1:], start=1):
                store.save_capture(session, self.source, run, part, root=root, part_index=n)
            run.pages += len(item.parts)
            self.stats.inc_value("archive/pages", len(item.parts))
            if alias is not None:  # its URL is kept as provenance; its speeches are the first capture's
                root.note = f"alias of capture {alias.id}: {alias.canonical_url}"[:300]
                self.stats.inc_value("archive/aliases")
                return item
            if item.not_html:
                root.note = f"not_html: {item.not_html}"
                self.stats.inc_value("clean/not_html")
                return item
            site = source.site or _host(first.canonical_url)
            try:
                result = store.clean_capture(item.text_parts, first.canonical_url, rules, site,
                                             lambda name: self._learned(session, name))
            except PageError as exc:
                self._failed(run, first.canonical_url, exc)
                return item
            except Exception as exc:  # a cleaner bug must not cost the raw page: keep it, re-clean later
                self.crawler.spider.logger.exception("cleaner crashed on %s", first.canonical_url)
                self._failed(run, first.canonical_url, exc)
                return item
            outcome = store.save_speeches(session, root, result, site)
            self._count(session, run, outcome)
            if result.rejected:
                self.stats.inc_value("clean/not_prose", len(result.rejected))
                self.crawler.spider.logger.warning("text on %s is not a speech: %s", first.canonical_url,
                                                   "; ".join(result.rejected))
        return item

    def _learned(self, session: Session, site: str) -> frozenset[str]:
        """The site's learned chrome, relearned after every ``RELEARN_EVERY`` pages of that site."""
        cached = self.learned.get(site)
        if cached is None or cached[1] >= RELEARN_EVERY:
            cached = (site_boilerplate(session, site), 0)
        self.learned[site] = (cached[0], cached[1] + 1)
        return cached[0]

    def _failed(self, run: CrawlRun, url: str, exc: Exception) -> None:
        run.errors += 1
        self.stats.inc_value("clean/failed")
        self.crawler.spider.logger.warning("cleaning failed for %s: %s (raw page kept)", url, exc)

    def _count(self, session: Session, run: CrawlRun, outcome: store.SaveOutcome) -> None:
        run.speeches_new += outcome.new
        run.duplicates += outcome.duplicates
        run.flagged += outcome.flagged
        self.stats.inc_value("archive/stored", outcome.new)
        self.stats.inc_value("archive/versions", outcome.changed)
        self.stats.inc_value("archive/unchanged_speeches", outcome.unchanged)
        self.stats.inc_value("archive/chars", outcome.chars)
        self.stats.inc_value("archive/duplicate", outcome.duplicates)
        self.stats.inc_value("clean/flagged", outcome.flagged)


def errors_in(stats: dict) -> int:
    """Dead links and failed downloads; requests robots.txt forbade are not errors."""
    ignored = stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0)
    return (stats.get("httperror/response_ignored_count", 0) + stats.get("downloader/exception_count", 0) - ignored)


def _host(url: str) -> str:
    return urlparse(url).netloc
