"""Ingest: the one path from a stored capture to its speeches, stored and grouped.

The crawl, ``reclean`` and the cleaning a crashed run left owed all come through ``Ingest``:

    capture ─► clean (pure, on a pool of processes) ─► learned chrome ─► store ─► group

Cleaning is a pure function of the page (``clean``), so it runs on every core, and with a new
page the pool also computes its speeches' sketches and full-text documents (``Precomputed``), the
writer's own pure work. The writer takes the results back in the order the captures were given,
applies what it learned of each site and writes, so the archive is the same whatever the number
of workers. Writes are committed in batches
(``ingest_batch_pages`` pages or ``ingest_batch_ms`` milliseconds, whichever comes first). A
capture is committed before it is cleaned; one whose outcome never got written (``cleaned_at`` is
empty: the process was killed) is cleaned when its source is next crawled (``owed``). Where the
full-text index can be written off the writer's path (PostgreSQL: ``fulltext.defer``), its
speeches are indexed after each commit by a thread of the writer's.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import cache
from multiprocessing import get_context
from multiprocessing.context import BaseContext

import numpy as np
from sqlalchemy import Update, bindparam, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

import settings
from archive import fulltext
from archive.dedup import grouping
from archive.dedup.grouping import fingerprint
from archive.learn import Known, site_boilerplate
from archive.storage import store
from archive.storage.bulk import one_of
from archive.storage.db import refresh_statistics
from archive.storage.models import Blob, Capture, search_text_of, utcnow
from cleaners import CleanResult, Limits, PageError, SiteRules, clean_page
from cleaners.content import not_html
from cleaners.learned import remove_learned
from crawler.lifeline import name_process, signal_on_parent_death

RELEARN_EVERY = 50  # pages of a site between two readings of its learned chrome
POOL_AFTER = 64  # pages cleaned in the writer before a pool is started: small crawls never pay for one
PER_TASK = 8  # pages at most in one task of the pool: each task costs both sides IPC and wake-ups
# tasks' worth of pages per worker in hand at most: with 2, the writer of a 1,000-page crawl waited
# 1.5 s in all for cleaned pages (the pool idled while the writer read or committed); with 4, 0.4–0.9 s
IN_HAND = 4
HOLD = 0.05  # seconds a page waits for others to share its task before it goes alone


def limits() -> Limits:
    """The cleaning limits the user set."""
    return Limits(max_chars=int(settings.get("max_speech_chars")), min_chars=int(settings.get("min_speech_chars")),
                  review_share=float(settings.get("review_share")))


@dataclass(frozen=True)
class Page:
    """One capture's cleaning work, as a worker process receives it."""

    capture_id: int
    html: list[str]  # the decoded parts, first to last
    url: str
    rules: SiteRules
    limits: Limits


@dataclass(frozen=True)
class Stored:
    """A stored capture's cleaning work, its parts still compressed: a worker unpacks and decodes them."""

    capture_id: int
    bodies: list[tuple[bytes, str]]  # each part's stored (compressed) body and encoding, first to last
    content_type: str | None
    url: str
    rules: SiteRules
    limits: Limits

    def page(self) -> Page | Cleaned:
        """The decoded page, or why there is nothing to clean."""
        first = store.unpack(self.bodies[0][0])
        what = not_html(first, self.content_type)
        if what:
            return Cleaned.nothing(self.capture_id, what)
        html = [body.decode(encoding, errors="replace") for body, encoding in
                [(first, self.bodies[0][1]), *((store.unpack(b), e) for b, e in self.bodies[1:])]]
        return Page(self.capture_id, html, self.url, self.rules, self.limits)


@dataclass(frozen=True)
class Cleaned:
    capture_id: int
    result: CleanResult | None
    error: str | None = None  # why cleaning gave no result (the raw page is kept for a later reclean)
    crashed: bool = False  # the error is a cleaner bug, not a page it cannot read
    note: str | None = None  # why there was nothing to clean ("not_html: a PDF document")
    precomputed: Precomputed | None = None  # what the writer would compute of its speeches, by the pool

    @classmethod
    def nothing(cls, capture_id: int, what: str) -> Cleaned:
        """A capture that is not an HTML page: kept raw, and any speech an older cleaner made of it goes."""
        return cls(capture_id, CleanResult.empty(), note=f"not_html: {what}")


def clean(work: Page | Stored) -> Cleaned:
    """Clean one page; a failure is returned, never raised, so it costs neither the batch nor the pool."""
    page = work.page() if isinstance(work, Stored) else work
    if isinstance(page, Cleaned):
        return page
    try:
        return Cleaned(page.capture_id, clean_page(page.html, page.url, page.rules, page.limits))
    except PageError as exc:
        return Cleaned(page.capture_id, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - a cleaner bug must not cost the raw page
        return Cleaned(page.capture_id, None, f"cleaner crashed: {exc!r}\n{traceback.format_exc(limit=-3)}", True)


@dataclass(frozen=True)
class Precomputed:
    """A new page's speeches' sketches and full-text documents, by text: the writer is one process
    and a crawl goes at its pace, so the pool takes this share of its work (``archive.ahead``)."""

    prints: dict[str, tuple[np.ndarray, str]]  # text → fingerprint
    documents: dict[str, str]  # search_text → the index's document of it

    @classmethod
    def of(cls, result: CleanResult, dialect: str) -> Precomputed:
        document = fulltext.index_for(dialect).document.fn
        return cls({sp.text: fingerprint.fn(sp.text) for sp in result.speeches},
                   {st: document(st) for st in {search_text_of(sp.title, sp.text, sp.meta.speaker)
                                                for sp in result.speeches}})

    def keep(self, dialect: str) -> None:
        for text, value in self.prints.items():
            fingerprint.keep(text, value)
        for search_text, document in self.documents.items():
            fulltext.index_for(dialect).document.keep(search_text, document)


def clean_all(works: list[Page | Stored], dialect: str) -> list[Cleaned]:
    """One task of the pool: several pages, so its cost is shared (reclean on 2 processes spent a
    sixth of its CPU passing pages one by one). A new page's speeches are new: what storing and
    grouping them will compute is computed here too; a stored page's are mostly as they were."""
    done = [clean(work) for work in works]
    return [replace(c, precomputed=Precomputed.of(c.result, dialect))
            if isinstance(work, Page) and c.result is not None else c for work, c in zip(works, done, strict=True)]


class _Slot:
    """A page's place among the pool's tasks: its task (once sent) and where in it."""

    __slots__ = ("index", "task")

    def __init__(self, index: int) -> None:
        self.index = index
        self.task: Future | None = None

    def ready(self) -> bool:
        return self.task is not None and self.task.done()

    def result(self) -> Cleaned:
        return self.task.result()[self.index]


def _worker_started() -> None:
    """Pool workers end with the process that started them, leave Ctrl-C to it, and yield the CPU
    to it: the archive is written at the pace of that one process, so a moment it waits for a core
    is lost, while the pool's cleaning ahead can wait (reclean on 2 cores: 448–523 → 549–578
    captures/s, with the writer's own savings)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal_on_parent_death(signal.SIGTERM)
    os.nice(10)
    name_process("archive-clean")


def start_method(*preload: str) -> BaseContext:
    """Fork when this process runs one thread (cheap: children inherit the imported modules); else
    a fork server that has imported the cleaners, this module and ``preload``, as forking a threaded
    process may copy a lock another thread holds (the crawl's reactor)."""
    if threading.active_count() == 1:
        return get_context("fork")
    context = get_context("forkserver")
    context.set_forkserver_preload(["cleaners", "archive.ingest", *preload])
    return context


class SiteChrome:
    """What each site's archived speeches teach as its chrome, read again every ``RELEARN_EVERY``
    pages of that site. Read in the writer, in capture order: the same pages give the same archive."""

    def __init__(self) -> None:
        self.learned: dict[str, tuple[frozenset[str], int]] = {}
        self.speeches: dict[str, Known] = {}  # each site's speeches as last read

    def __call__(self, session: Session, site: str) -> frozenset[str]:
        lines, pages = self.learned.get(site, (frozenset(), RELEARN_EVERY))
        if pages >= RELEARN_EVERY:
            lines, pages = site_boilerplate(session, site, known=self.speeches.setdefault(site, {})), 0
        self.learned[site] = (lines, pages + 1)
        return lines


@dataclass
class Written:
    """What became of one capture."""

    capture: Capture
    cleaned: Cleaned
    outcome: store.SaveOutcome


def write(session: Session, capture: Capture, cleaned: Cleaned, site: str, chrome: SiteChrome) -> store.SaveOutcome:
    """Store a capture's cleaning outcome: its speeches, grouped with their copies, or why it has none.
    The caller marks the capture cleaned (``Ingest`` does, for its whole batch, at the commit)."""
    fresh = capture.cleaned_at is None  # a capture never cleaned has no speeches
    if cleaned.result is None:
        capture.note = f"clean failed: {cleaned.error}"[:300]
        return store.SaveOutcome()
    result = remove_learned(cleaned.result, chrome(session, cleaned.result.site_name or site))
    saved = store.save_speeches(session, capture, result, site, fresh)
    if cleaned.note:
        capture.note = cleaned.note
    for gid in saved.orphaned:
        grouping.regroup_after_drop(session, gid)
    for row in saved.written:
        if grouping.assign_group(session, row):
            saved.outcome.duplicates += 1
    return saved.outcome


class Ingest:
    """Cleans captures on a pool of ``workers`` processes and writes their outcomes in the order given.

    With ``workers`` unset (the setting ``ingest_workers``) the pool starts after ``POOL_AFTER``
    pages, so a small crawl is cleaned by the writer alone; ``workers`` given starts it at once.

    Pages go to the pool ``PER_TASK`` at a time, or fewer once the oldest has waited ``HOLD``
    seconds (looked at on each ``write_ready``, which the crawl's writer calls at least every
    ``ingest_batch_ms``) or its outcome is wanted: a slow crawl's page waits at most that long.
    ``add`` returns at once while fewer than ``IN_HAND × PER_TASK × workers`` pages are in hand,
    else writes the oldest first (back-pressure); ``flush`` writes and commits everything in hand. Each
    written capture is reported to ``on_written`` before its batch commits; ``before_commit`` and
    ``after_commit`` are called around each commit."""

    def __init__(self, session: Session, workers: int | None = None, on_written: Callable[[Written], None] | None = None,
                 before_commit: Callable[[], None] | None = None, after_commit: Callable[[], None] | None = None,
                 batch_pages: int | None = None, batch_ms: float | None = None) -> None:
        self.session = session
        self.workers = workers or int(settings.get("ingest_workers")) or os.cpu_count() or 1
        self.pool_after = 0 if workers else POOL_AFTER
        self.on_written = on_written
        self.before_commit = before_commit
        self.after_commit = after_commit
        self.batch_pages = batch_pages or int(settings.get("ingest_batch_pages"))
        self.batch_seconds = (batch_ms if batch_ms is not None else float(settings.get("ingest_batch_ms"))) / 1000
        self.limits = limits()
        self.engine = session.get_bind()
        self.dialect = self.engine.dialect.name
        self.deferred: bool | None = None  # whether its speeches are indexed off its path (None: not asked yet)
        if self.workers == 1:  # no pool to come
            self._defer_index()
        self.chrome = SiteChrome()
        self.pool: ProcessPoolExecutor | None = None
        self.processes = 1  # that cleaned: the writer alone until a pool starts
        self.seen = 0
        self.in_hand: deque[tuple[Capture, str, _Slot | Cleaned]] = deque()
        self.unsent: list[tuple[Page | Stored, _Slot]] = []  # for the pool's next task
        self.unsent_since = 0.0
        self.cleaned: list[Capture] = []  # written in this batch, to be marked cleaned at its commit
        self.unsaved = 0
        self.since = time.monotonic()

    def add(self, capture: Capture, work: Page | Stored | Cleaned, site: str) -> None:
        """Clean ``work`` (the capture's page, of ``site``, unless already known) and write its
        outcome, in order, when its turn comes."""
        if not isinstance(work, Cleaned):
            self.seen += 1
            if self.pool is None and self.workers > 1 and self.seen > self.pool_after:
                self.pool = ProcessPoolExecutor(self.workers, mp_context=start_method(),
                                                initializer=_worker_started)
                self.processes = self.workers
            if self.pool is None:
                work = clean(work)
            else:
                slot = _Slot(len(self.unsent))
                if not self.unsent:
                    self.unsent_since = time.monotonic()
                self.unsent.append((work, slot))
                if len(self.unsent) >= PER_TASK:
                    self._send()
                work = slot
        self.in_hand.append((capture, site, work))
        while len(self.in_hand) > IN_HAND * PER_TASK * self.workers:
            self._write_next()
        self.write_ready()

    def write_ready(self) -> None:
        """Write the outcomes whose turn has come and that are ready; commit if the batch is due."""
        if self.unsent and time.monotonic() - self.unsent_since >= HOLD:
            self._send()
        while self.in_hand and (not isinstance(ready := self.in_hand[0][2], _Slot) or ready.ready()):
            self._write_next()
        if self.unsaved and (self.unsaved >= self.batch_pages or time.monotonic() - self.since >= self.batch_seconds):
            self.commit()

    def flush(self) -> None:
        while self.in_hand:
            self._write_next()
        self.commit()

    def commit(self) -> None:
        self._mark_cleaned()
        if self.before_commit is not None:
            self.before_commit()
        self.session.commit()
        if self.after_commit is not None:
            self.after_commit()
        refresh_statistics(self.session)  # after every commit: a new archive doubles its tables quickly
        self.unsaved = 0
        self.since = time.monotonic()

    def close(self) -> None:
        """Write what is in hand and stop the pool; what is in hand when this fails is owed, not lost."""
        try:
            self.flush()
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop the pool without writing what is in hand; wait until what was committed is indexed."""
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
        self.in_hand.clear()
        self.unsent.clear()
        self.cleaned.clear()
        if self.deferred:
            self.deferred = False
            fulltext.undefer(self.engine)

    def _defer_index(self) -> None:
        """Have the speeches committed from now on indexed off this process's path, after each commit
        (``fulltext.defer``): once no process is to be forked from it, as that takes a thread."""
        if self.deferred is None:
            self.deferred = fulltext.defer(self.engine)

    def _send(self) -> None:
        """The pages waiting for a task, to the pool as one."""
        task = self.pool.submit(clean_all, [work for work, _ in self.unsent], self.dialect)
        self._defer_index()  # the pool's processes were forked at its first task
        for _, slot in self.unsent:
            slot.task = task
        self.unsent.clear()

    def _mark_cleaned(self) -> None:
        """Mark the batch's captures cleaned in one statement: one update each made a flush of the
        unit of work per page (a fifth of reclean's writing)."""
        if not self.cleaned:
            return
        now = utcnow()
        self.session.connection().execute(_mark(self.session.get_bind().dialect.name),
                                          {"ids": [c.id for c in self.cleaned], "now": now})
        for capture in self.cleaned:  # as the database now holds it, without another update
            set_committed_value(capture, "cleaned_at", now)
        self.cleaned.clear()

    def _write_next(self) -> None:
        capture, site, pending = self.in_hand.popleft()
        if isinstance(pending, _Slot) and pending.task is None:
            self._send()
        cleaned = pending.result() if isinstance(pending, _Slot) else pending
        if cleaned.precomputed is not None:
            cleaned.precomputed.keep(self.dialect)
        try:
            with self.session.begin_nested():  # one page's speeches and grouping, whole or not at all
                outcome = write(self.session, capture, cleaned, site, self.chrome)
        except (IntegrityError, DataError) as exc:  # the database refuses this page's data: the rest goes on
            cause = getattr(exc, "orig", None) or exc  # the database's own words, without the SQL
            cleaned = Cleaned(capture.id, None, f"the archive refused its speeches: {type(cause).__name__}: {cause}",
                              crashed=True)
            capture.note = cleaned.error[:300]
            outcome = store.SaveOutcome()
        self.cleaned.append(capture)
        self.unsaved += 1
        if self.on_written is not None:
            self.on_written(Written(capture, cleaned, outcome))


@cache
def _mark(dialect: str) -> Update:
    captures = Capture.__table__
    return update(captures).where(one_of(captures.c.id, "ids", dialect)).values(cleaned_at=bindparam("now"))


def owed(session: Session, source_id: int) -> list[int]:
    """Ids of the source's first parts whose cleaning outcome was never stored (a killed run), oldest first."""
    return list(session.scalars(select(Capture.id).where(Capture.source_id == source_id, Capture.cleaned_at.is_(None),
                                                         Capture.root_id.is_(None)).order_by(Capture.id)))


def add_stored(ingest: Ingest, ids: Sequence[int], rules_for: Callable[[Capture], SiteRules],
               site_for: Callable[[Capture], str], chunk: int = 200) -> None:
    """Clean stored captures again (``reclean``, and what a killed run owed), reading them, their
    parts and bodies ``chunk`` captures at a time: three queries a chunk, and memory for one chunk
    whatever the size of the archive."""
    for start in range(0, len(ids), chunk):
        wanted = ids[start:start + chunk]
        by_id = {c.id: c for c in ingest.session.scalars(select(Capture).where(Capture.id.in_(wanted)))}
        roots = [by_id[i] for i in wanted if i in by_id]
        parts: dict[int, list[Capture]] = {}
        for part in ingest.session.scalars(select(Capture).where(Capture.root_id.in_(wanted))
                                           .order_by(Capture.part_index)):
            parts.setdefault(part.root_id, []).append(part)
        every = [p for c in roots for p in (c, *parts.get(c.id, []))]
        blobs = dict(ingest.session.execute(select(Blob.sha256, Blob.data)
                                            .where(Blob.sha256.in_({p.body_sha256 for p in every}))).all())
        for capture in roots:
            bodies = [(blobs[p.body_sha256], p.encoding) for p in (capture, *parts.get(capture.id, []))]
            work = Stored(capture.id, bodies, (capture.headers or {}).get("Content-Type"), capture.canonical_url,
                          rules_for(capture), ingest.limits)
            ingest.add(capture, work, site_for(capture))
