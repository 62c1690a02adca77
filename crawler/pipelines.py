"""Item pipeline: every fetched page is archived raw, then cleaned and its speeches stored and grouped.

The reactor never waits for the database or the cleaners: ``process_item`` hands the page to a
writer thread through a bounded queue (a full queue holds the item back, so memory stays flat).
The writer stores the raw capture and passes it to ``archive.ingest``, which cleans on a pool of
processes and commits in batches. A capture is committed before its speeches: a crash loses no
captured page, and the cleaning it owed is done on the source's next run.
Outcomes are counted in crawl stats (``archive/*``, ``clean/*``) and on the run's row.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections import Counter
from urllib.parse import urlparse

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from archive import health, ingest
from archive.storage import store
from archive.storage.db import open_archive, sessions
from archive.storage.models import utcnow
from crawler.items import PageItem

QUEUE_PAGES = 32  # pages fetched but not yet stored, at most
FAILED = "archive_failed"  # the close reason when the archive cannot be written
RUN_OVER = "shared run over"  # the close reason of a process that joined a shared run as it ended
_END = None  # told to the writer when the crawl closes


class ArchivePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = crawler.settings.get("ARCHIVE_DB")
        self.inbox: queue.Queue[PageItem | None] = queue.Queue(maxsize=QUEUE_PAGES)
        self.failed: BaseException | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.engine = open_archive(self.db_url, writer=True)
        self.session = sessions(self.engine)()
        spider = self.crawler.spider
        self.source = store.ensure_source(self.session, spider.source.name, spider.source.raw)
        self.run = store.start_run(self.session, self.source, self.crawler.settings.get("FRONTIER_RUN"))
        self.session.commit()
        self.crawler.stats.set_value("archive/run_id", self.run.id)
        self.counts: Counter[str] = Counter()  # the run's counters since the last commit
        self.ingest = ingest.Ingest(self.session, on_written=self._count, before_commit=self._tally)
        self.writer = threading.Thread(target=self._write, name="archive-writer", daemon=True)
        self.writer.start()

    async def process_item(self, item: PageItem) -> PageItem:
        if self.failed is not None:  # logged once where it failed; the crawl is closing
            self.stats.inc_value("archive/not_stored")
            return item
        try:
            self.inbox.put_nowait(item)
        except queue.Full:  # the writer is behind: this item waits off the reactor, and no more are taken
            await asyncio.to_thread(self.inbox.put, item)
        return item

    async def close_spider(self) -> None:
        # Scrapy records the close reason only after the pipelines have closed: a crawler told to stop
        # (SIGTERM, Ctrl-C) no longer counts as crawling, and JoinGate records its own reason
        reason = self.crawler.stats.get_value("finish_reason") or ("finished" if self.crawler.crawling else "shutdown")
        await asyncio.to_thread(self._stop_writer)
        if reason == RUN_OVER:  # joined a shared crawl as it ended: it did nothing and is no part of it
            self.session.delete(self.run)
            self.session.commit()
            self._dispose()
            return
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        shared = self.crawler.settings.get("FRONTIER_RUN")
        run = self.run
        run.errors += errors_in(stats)
        stats["archive/errors"] = run.errors
        status = "finished" if reason == "finished" and self.failed is None else "interrupted"
        store.finish_run(self.session, run, status, {**stats, **({"shared_run": shared} if shared else {})})
        # a process of a shared crawl holds a part of it: the last one out judges the whole crawl
        reasons = health.judge(self.session, [run]) if status == "finished" and not shared else []
        self.session.commit()
        if reasons:
            health.alert_degraded(self.source.name, [run], reasons)
        self._dispose()

    def _stop_writer(self) -> None:
        self.inbox.put(_END)
        self.writer.join()

    def _dispose(self) -> None:
        self.session.close()
        self.engine.dispose()

    # --- the writer thread -------------------------------------------------------------------------
    def _write(self) -> None:
        """Store each page as it comes, clean what earlier runs owed first, commit in batches."""
        ended = False
        try:
            owed = ingest.owed(self.session, self.source.id)
            if owed:
                self.crawler.spider.logger.info("cleaning %d pages an interrupted run left uncleaned", len(owed))
                ingest.add_stored(self.ingest, owed, lambda c: self._rules(c.canonical_url),
                                  lambda c: self._site(c.canonical_url))
            while True:
                try:
                    item = self.inbox.get(timeout=self.ingest.batch_seconds)
                except queue.Empty:
                    self.ingest.write_ready()
                    continue
                if item is _END:
                    ended = True
                    break
                self._store(item)
                self.ingest.write_ready()
            self.ingest.close()
        except BaseException as exc:  # noqa: BLE001 - what is committed stays; the run is recorded interrupted
            self.failed = exc
            cause = getattr(exc, "orig", None) or exc  # the database's own words, without the SQL
            self.stats.set_value("archive/failure", f"{type(cause).__name__}: {cause}"[:500])
            self.crawler.spider.logger.exception("the archive writer failed: the crawl stops")
            self.session.rollback()
            self.counts.clear()  # of pages the rollback took back
            self.ingest.stop()
            from twisted.internet import reactor

            reactor.callFromThread(lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason=FAILED)))
            while not ended:  # pages already handed over are counted as lost, and nothing waits on a full queue
                ended = self.inbox.get() is _END
                self.stats.inc_value("archive/not_stored", 0 if ended else 1)

    def _store(self, item: PageItem) -> None:
        """Store the page raw (once per body) and hand it to cleaning."""
        first = item.parts[0]
        same = store.same_body(self.session, self.source, first)
        if any(c.canonical_url == first.canonical_url for c in same):
            self.stats.inc_value("archive/unchanged")
            return
        alias = next((c for c in same if c.note is None), None) if len(item.parts) == 1 else None
        root = store.save_capture(self.session, self.source, self.run, first)
        for n, part in enumerate(item.parts[1:], start=1):
            store.save_capture(self.session, self.source, self.run, part, root=root, part_index=n)
        self.counts["pages"] += len(item.parts)
        self.stats.inc_value("archive/pages", len(item.parts))
        if alias is not None:  # its URL is kept as provenance; its speeches are the first capture's
            root.note, root.cleaned_at = f"alias of capture {alias.id}: {alias.canonical_url}"[:300], utcnow()
            self.stats.inc_value("archive/aliases")
            return
        site = self._site(first.canonical_url)
        if item.not_html:
            self.stats.inc_value("clean/not_html")
            self.ingest.add(root, ingest.Cleaned.nothing(root.id, item.not_html), site)
            return
        self.ingest.add(root, ingest.Page(root.id, item.text_parts, first.canonical_url,
                                          self._rules(first.canonical_url), self.ingest.limits), site)

    def _tally(self) -> None:
        """Add the counts since the last commit to the run's row, in the batch's transaction."""
        for name, n in self.counts.items():
            setattr(self.run, name, getattr(self.run, name) + n)
        self.counts.clear()

    def _rules(self, url: str):  # noqa: ANN202 - cleaners.SiteRules
        return self.crawler.spider.source.rules_for(url)

    def _site(self, url: str) -> str:
        return self.crawler.spider.source.site or urlparse(url).netloc

    def _count(self, written: ingest.Written) -> None:
        """One capture's outcome, on the run's row and in the crawl's stats."""
        counts, outcome, cleaned = self.counts, written.outcome, written.cleaned
        url = written.capture.canonical_url
        if cleaned.result is None:
            counts["errors"] += 1
            self.stats.inc_value("clean/failed")
            log = self.crawler.spider.logger.error if cleaned.crashed else self.crawler.spider.logger.warning
            log("no speeches stored for %s: %s (raw page kept)", url, cleaned.error)
            return
        counts.update(speeches_new=outcome.new, duplicates=outcome.duplicates, flagged=outcome.flagged)
        self.stats.inc_value("archive/stored", outcome.new)
        self.stats.inc_value("archive/versions", outcome.changed)
        self.stats.inc_value("archive/unchanged_speeches", outcome.unchanged)
        self.stats.inc_value("archive/chars", outcome.chars)
        self.stats.inc_value("archive/duplicate", outcome.duplicates)
        self.stats.inc_value("clean/flagged", outcome.flagged)
        if cleaned.result.rejected:
            self.stats.inc_value("clean/not_prose", len(cleaned.result.rejected))
            self.crawler.spider.logger.warning("text on %s is not a speech: %s", url, "; ".join(cleaned.result.rejected))


def errors_in(stats: dict) -> int:
    """Dead links and failed downloads; requests robots.txt forbade are not errors."""
    ignored = stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0)
    return (stats.get("httperror/response_ignored_count", 0) + stats.get("downloader/exception_count", 0) - ignored)
