"""Item pipeline: every fetched page is archived raw, then cleaned and its speeches stored and grouped.

The reactor never waits for the database or the cleaners, nor shares a core with them:
``process_item`` hands the page through a bounded queue (a full queue holds the item back, so
memory stays flat) to the writer process (``crawler.writer``), which stores, cleans and groups, and
reports back stats, log lines and failure on a pipe that a thread here listens to. A capture is
committed before its speeches: a crash loses no captured page, and the cleaning it owed is done on
the source's next run. Outcomes are counted in crawl stats (``archive/*``, ``clean/*``) and on the
run's row.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import threading

from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from archive import health, ingest
from archive.storage import store
from archive.storage.db import open_archive, sessions
from crawler import writer
from crawler.items import PageItem

QUEUE_PAGES = 32  # pages fetched but not yet stored, at most
FAILED = "archive_failed"  # the close reason when the archive cannot be written
RUN_OVER = "shared run over"  # the close reason of a process that joined a shared run as it ended
WAIT = 0.5  # seconds between two looks at whether the writer is still there, while waiting on it


class ArchivePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.db_url = crawler.settings.get("ARCHIVE_DB")
        self.failed: str | None = None
        self.ending = False  # the crawl has told the writer to end

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.engine = open_archive(self.db_url, writer=True)
        self.session = sessions(self.engine)()
        spider = self.crawler.spider
        self.logger = spider.logger
        self.source = store.ensure_source(self.session, spider.source.name, spider.source.raw)
        self.run = store.start_run(self.session, self.source, self.crawler.settings.get("FRONTIER_RUN"))
        self.session.commit()
        self.stats.set_value("archive/run_id", self.run.id)
        context = ingest.start_method("crawler.writer")
        self.inbox = context.Queue(maxsize=QUEUE_PAGES)
        self.reports, sender = context.Pipe(duplex=False)
        env = {k: v for k, v in os.environ.items() if k.startswith("SPEECH_ARCHIVE_")}
        job = writer.Job(self.db_url, spider.source, self.source.id, self.run.id, env)
        # not a daemon: it starts the cleaning pool; a crawl that ends without closing (a second
        # Ctrl-C) still tells it to write what it holds and waits for it, at exit
        self.writer = context.Process(target=writer.main, args=(job, self.inbox, sender), name="archive-writer")
        self.writer.start()
        atexit.register(self._stop_writer)
        sender.close()  # the writer holds the only sending end: its end is the pipe's end
        self.listener = threading.Thread(target=self._listen, name="archive-reports", daemon=True)
        self.listener.start()

    async def process_item(self, item: PageItem) -> PageItem:
        if self.failed is None:
            try:
                self.inbox.put_nowait(item)
                return item
            except queue.Full:  # the writer is behind: this item waits off the reactor, and no more are taken
                if await asyncio.to_thread(self._hand_over, item):
                    return item
        self.stats.inc_value("archive/not_stored")  # the failure was logged once, where it happened
        return item

    async def close_spider(self) -> None:
        # Scrapy records the close reason only after the pipelines have closed: a crawler told to stop
        # (SIGTERM, Ctrl-C) no longer counts as crawling, and JoinGate records its own reason
        reason = self.crawler.stats.get_value("finish_reason") or ("finished" if self.crawler.crawling else "shutdown")
        await asyncio.to_thread(self._stop_writer)
        atexit.unregister(self._stop_writer)
        self.session.refresh(self.run)  # the writer's counts
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

    def _hand_over(self, item: PageItem | None) -> bool:
        """Put ``item`` in the full inbox once there is room; False if the writer is gone first."""
        while self.writer.is_alive():
            try:
                self.inbox.put(item, timeout=WAIT)
                return True
            except queue.Full:
                continue
        return False

    def _stop_writer(self) -> None:
        """Tell the writer the crawl is over and wait until it has written everything and reported
        (at once if it is gone)."""
        self.ending = True
        self._hand_over(writer.END)
        self.listener.join()
        self.writer.join()
        self.inbox.close()
        self.inbox.cancel_join_thread()  # a writer that died left pages in the queue: nobody will take them

    def _dispose(self) -> None:
        self.session.close()
        self.engine.dispose()

    def _listen(self) -> None:
        """Apply the writer's reports as they come, until it is done; a writer gone without a
        word (killed), or done before the crawl told it to end, has failed."""
        done = False
        try:
            while not done:
                message = self.reports.recv()
                if message[0] == "report":
                    for name, n in message[1].items():
                        self.stats.inc_value(name, n)
                    for level, line in message[2]:
                        self.logger.log(level, line)
                elif message[0] == "failed":  # the cause, the writer's traceback
                    self._failed(message[1], message[2])
                done = message[0] == "done"
        except EOFError:
            pass
        finally:
            self.reports.close()
        if self.failed is None and not (done and self.ending):
            self.writer.join()
            self._failed(f"the archive writer process ended with exit code {self.writer.exitcode}", "")

    def _failed(self, cause: str, details: str) -> None:
        """Stop the crawl: what is committed stays, and the run is recorded interrupted."""
        self.failed = cause
        self.stats.set_value("archive/failure", cause)
        self.logger.error("the archive writer failed: the crawl stops\n%s", details or cause)
        if self.ending:  # the crawl is closing already
            return
        from twisted.internet import reactor

        reactor.callFromThread(lambda: deferred_from_coro(self.crawler.engine.close_spider_async(reason=FAILED)))


def errors_in(stats: dict) -> int:
    """Dead links and failed downloads; requests robots.txt forbade are not errors."""
    ignored = stats.get("downloader/exception_type_count/scrapy.exceptions.IgnoreRequest", 0)
    return (stats.get("httperror/response_ignored_count", 0) + stats.get("downloader/exception_count", 0) - ignored)
