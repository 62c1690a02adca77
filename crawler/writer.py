"""The archive writer: a process of its own beside the crawl, so the reactor never shares a core
(or the GIL) with storing, cleaning and grouping.

    reactor ──pages──► inbox (bounded) ──► writer: store raw ─► ingest (clean on a pool, write, group)
            ◄── stats, log lines, failure, done ── report ◄──

The writer stores each page raw (once per body), hands it to ``archive.ingest`` and commits in
batches, adding each batch's counts to the run's row in its transaction; after each commit it
reports them to the crawl's stats, with its log lines, in one message. When the archive
fails it reports why and then counts each page still handed to it as not stored, until the crawl
ends. It ignores Ctrl-C and SIGTERM (they reach the crawl, which ends it in order) and dies with
the crawl's process if that is killed: what it committed stays, and the pages it held are fetched
again, or cleaned, on the source's next run.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import traceback
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.queues import Queue
from urllib.parse import urlparse

from archive import ingest
from archive.storage import store
from archive.storage.db import open_archive, sessions
from archive.storage.models import CrawlRun, Source, utcnow
from cleaners import SiteRules
from crawler import sources
from crawler.items import PageItem
from crawler.lifeline import name_process, signal_on_parent_death

END = None  # put in the inbox when the crawl closes
RUN_COUNTERS = ("pages", "speeches_new", "duplicates", "flagged", "errors")  # the run's columns the writer adds to


@dataclass(frozen=True)
class Job:
    """What the writer process is given: where to write, for which source and run."""

    db_url: str
    source: sources.Source  # its cleaning rules per URL and its site name
    source_id: int
    run_id: int
    env: dict[str, str]  # the crawl's settings: a fork server's children would have the server's


class Report:
    """The writer's side of the report pipe: stats increments and log lines, sent together."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.stats: Counter[str] = Counter()
        self.lines: list[tuple[int, str]] = []

    def inc(self, name: str, n: int = 1) -> None:
        self.stats[name] += n

    def log(self, level: int, message: str) -> None:
        self.lines.append((level, message))

    def send(self) -> None:
        if self.stats or self.lines:
            self.conn.send(("report", dict(self.stats), self.lines))
            self.stats, self.lines = Counter(), []

    def failed(self, cause: str, details: str) -> None:
        self.send()
        self.conn.send(("failed", cause, details))

    def done(self) -> None:
        self.send()
        self.conn.send(("done",))


def main(job: Job, inbox: Queue, conn: Connection) -> None:
    """The writer process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal_on_parent_death(signal.SIGKILL)
    name_process("archive-writer")
    for name in [n for n in os.environ if n.startswith("SPEECH_ARCHIVE_")]:
        del os.environ[name]
    os.environ.update(job.env)
    report = Report(conn)
    try:
        Writer(job, inbox, report).run()
    finally:
        report.done()
        conn.close()


class Writer:
    def __init__(self, job: Job, inbox: Queue, report: Report) -> None:
        self.job, self.inbox, self.report = job, inbox, report
        self.counts: Counter[str] = Counter()  # the run's counters since the last commit

    def run(self) -> None:
        """Store each page as it comes, clean what earlier runs owed first, commit in batches."""
        try:
            engine = open_archive(self.job.db_url, writer=True)
        except Exception as exc:  # noqa: BLE001 - reported: the crawl stops
            return self._failed(exc)
        self.session = sessions(engine)()
        try:
            self._write()
        except BaseException as exc:  # noqa: BLE001 - what is committed stays; the run is recorded interrupted
            self.session.rollback()
            self._failed(exc)
        finally:
            self.session.close()
            engine.dispose()

    def _failed(self, exc: BaseException) -> None:
        """Report why the archive cannot be written; then count each page still handed over as not
        stored, so none waits on a full inbox, until the crawl (told to close) says it is over."""
        cause = getattr(exc, "orig", None) or exc  # the database's own words, without the SQL
        self.report.stats.clear()  # of pages the rollback took back
        self.report.failed(f"{type(cause).__name__}: {cause}"[:500], traceback.format_exc())
        while self.inbox.get() is not END:
            self.report.inc("archive/not_stored")
            self.report.send()

    def _write(self) -> None:
        self.source = self.session.get(Source, self.job.source_id)
        self.run_row = self.session.get(CrawlRun, self.job.run_id)
        self.ingest = ingest.Ingest(self.session, on_written=self._count, before_commit=self._tally,
                                    after_commit=self.report.send)
        try:
            owed = ingest.owed(self.session, self.source.id)
            if owed:
                self.report.log(logging.INFO, f"cleaning {len(owed)} pages an interrupted run left uncleaned")
                ingest.add_stored(self.ingest, owed, lambda c: self._rules(c.canonical_url),
                                  lambda c: self._site(c.canonical_url))
            while True:
                try:
                    item = self.inbox.get(timeout=self.ingest.batch_seconds)
                except queue.Empty:  # nothing came: the batch may be due
                    self.ingest.write_ready()
                    continue
                if item is END:
                    break
                self._store(item)
                self.ingest.write_ready()
            self.ingest.close()
        except BaseException:
            self.ingest.stop()
            raise

    def _store(self, item: PageItem) -> None:
        """Store the page raw (once per body) and hand it to cleaning."""
        first = item.parts[0]
        same = store.same_body(self.session, self.source, first)
        if any(c.canonical_url == first.canonical_url for c in same):
            self.report.inc("archive/unchanged")
            return
        alias = next((c for c in same if c.note is None), None) if len(item.parts) == 1 else None
        root = store.save_capture(self.session, self.source, self.run_row, first)
        for n, part in enumerate(item.parts[1:], start=1):
            store.save_capture(self.session, self.source, self.run_row, part, root=root, part_index=n)
        self.counts["pages"] += len(item.parts)
        self.report.inc("archive/pages", len(item.parts))
        if alias is not None:  # its URL is kept as provenance; its speeches are the first capture's
            root.note, root.cleaned_at = f"alias of capture {alias.id}: {alias.canonical_url}"[:300], utcnow()
            self.report.inc("archive/aliases")
            return
        site = self._site(first.canonical_url)
        if item.not_html:
            self.report.inc("clean/not_html")
            self.ingest.add(root, ingest.Cleaned.nothing(root.id, item.not_html), site)
            return
        self.ingest.add(root, ingest.Page(root.id, item.text_parts, first.canonical_url,
                                          self._rules(first.canonical_url), self.ingest.limits), site)

    def _tally(self) -> None:
        """Add the counts since the last commit to the run's row, in the batch's transaction."""
        for name in RUN_COUNTERS:
            setattr(self.run_row, name, getattr(self.run_row, name) + self.counts[name])
        self.counts.clear()

    def _rules(self, url: str) -> SiteRules:
        return self.job.source.rules_for(url)

    def _site(self, url: str) -> str:
        return self.job.source.site or urlparse(url).netloc

    def _count(self, written: ingest.Written) -> None:
        """One capture's outcome, on the run's row and in the crawl's stats."""
        counts, outcome, cleaned, inc = self.counts, written.outcome, written.cleaned, self.report.inc
        url = written.capture.canonical_url
        if cleaned.result is None:
            counts["errors"] += 1
            inc("clean/failed")
            self.report.log(logging.ERROR if cleaned.crashed else logging.WARNING,
                            f"no speeches stored for {url}: {cleaned.error} (raw page kept)")
            return
        counts.update(speeches_new=outcome.new, duplicates=outcome.duplicates, flagged=outcome.flagged)
        inc("archive/stored", outcome.new)
        inc("archive/versions", outcome.changed)
        inc("archive/unchanged_speeches", outcome.unchanged)
        inc("archive/chars", outcome.chars)
        inc("archive/duplicate", outcome.duplicates)
        inc("clean/flagged", outcome.flagged)
        if cleaned.result.rejected:
            inc("clean/not_prose", len(cleaned.result.rejected))
            self.report.log(logging.WARNING, f"text on {url} is not a speech: {'; '.join(cleaned.result.rejected)}")
