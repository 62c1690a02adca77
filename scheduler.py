"""Scheduled crawls: APScheduler 3.x, one job per source file that has a ``schedule``.

Each crawl runs in its own subprocess — Scrapy's reactor cannot restart inside one process, and a
crashing spider must not take the scheduler down. Jobs live in the archive database
(SQLAlchemyJobStore), have explicit ids (``crawl:NAME``) and are replaced on start, so editing a
source file's schedule and restarting is enough. ``coalesce`` runs a missed job once,
``max_instances=1`` never overlaps two crawls of one source, and a one-hour grace time keeps a
daily crawl that was due while the machine slept (APScheduler's default drops it after 1 s).

One scheduler per archive: ``scheduler_lock`` holds a PostgreSQL advisory lock (or, for a SQLite
archive, an exclusive lock on a file beside it) for the process's life, so a second scheduler
refuses to start instead of running every job twice. SIGTERM stops the scheduler, asks a running
crawl to close (Scrapy finishes the pages in hand, the run is recorded as interrupted) and waits.
The ``schedule`` commands edit the job store; the running scheduler rereads it every
``RELOAD_SECONDS``.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

import settings
from archive.storage import locks
from crawler.lifeline import child_env
from crawler.sources import SourceError, load_source, trigger_of

log = logging.getLogger("speech-archive.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


RELOAD_SECONDS = 30
_running: set[subprocess.Popen] = set()


class SchedulerBusy(locks.Busy):
    """Another scheduler process already runs this archive's jobs."""


def crawl_job(source_path: str, db_url: str) -> int:
    """Run one crawl in a subprocess; return its exit status (module-level: jobs are pickled).

    With frontier=redis the scheduler crawls nothing itself: it opens a shared run on the board
    for the workers, unless the last one of this source is still in progress."""
    if settings.get("frontier") == "redis":
        from crawler import frontier

        run = frontier.announce(frontier.connect(str(settings.get("redis_url"))), frontier.shareable(source_path))
        log.info("shared crawl of %s: %s", source_path, f"run {run} announced" if run else "still in progress")
        return 0
    cmd = [sys.executable, "-m", "cli", "--db", db_url, "crawl", source_path]
    log.info("starting crawl: %s", source_path)
    proc = subprocess.Popen(cmd, cwd=Path(__file__).resolve().parent, env=child_env())  # dies with us
    _running.add(proc)
    try:
        status = proc.wait()
    finally:
        _running.discard(proc)
    (log.info if status == 0 else log.error)("crawl of %s ended with status %s", source_path, status)
    return status


def _reload() -> None:
    """A no-op job whose firing makes the scheduler reread its job store (``schedule`` edits)."""


@contextmanager
def scheduler_lock(db_url: str) -> Iterator[None]:
    """Hold the archive's scheduler lock for the block, or raise ``SchedulerBusy``."""
    try:
        with locks.hold(db_url, "scheduler", busy="another scheduler is already running for this archive"):
            yield
    except locks.Busy as exc:
        raise SchedulerBusy(str(exc)) from exc


def schedule_sources(scheduler: BaseScheduler, sources_dir: Path, db_url: str,
                     paused: frozenset[str] = frozenset()) -> list[str]:
    """Add or replace one job per scheduled source file (``paused`` ids stay paused); return the job ids."""
    ids = []
    for path in sorted(sources_dir.glob("*.toml")):
        try:
            source = load_source(str(path))
        except SourceError as exc:
            log.error("skipping %s: %s", path, exc)
            continue
        if not source.schedule:
            continue
        try:
            trigger = trigger_of(source.schedule)
        except ValueError as exc:
            log.error("skipping %s: %s", path, exc)
            continue
        job_id = f"crawl:{source.name}"
        extra = {"next_run_time": None} if job_id in paused else {}
        scheduler.add_job(crawl_job, trigger, id=job_id, name=source.name, replace_existing=True,
                          args=[str(path.resolve()), db_url], **extra)
        ids.append(job_id)
    return ids


def build_scheduler(db_url: str, scheduler_class: type[BaseScheduler] = BackgroundScheduler) -> BaseScheduler:
    return scheduler_class(jobstores={"default": SQLAlchemyJobStore(url=db_url, tablename="scheduler_jobs")},
                           job_defaults=JOB_DEFAULTS, timezone="UTC")


def _stop(scheduler: BaseScheduler) -> None:
    """Stop taking jobs, ask running crawls to close cleanly, wait for them."""
    log.info("stopping: %d crawl(s) running", len(_running))
    for proc in list(_running):
        proc.send_signal(signal.SIGTERM)  # Scrapy closes the spider: pages in hand archived, run interrupted
    scheduler.shutdown(wait=True)


def run_forever(db_url: str, sources_dir: Path) -> None:
    """The ``speech-archive scheduler`` process: schedule every source, run until SIGTERM or Ctrl-C."""
    with scheduler_lock(db_url):
        with job_store(db_url) as store:
            paused = frozenset(j.id for j in store.get_jobs() if j.next_run_time is None)
        scheduler = build_scheduler(db_url)
        scheduler.add_jobstore("memory", alias="internal")
        ids = schedule_sources(scheduler, sources_dir, db_url, paused)
        scheduler.add_job(_reload, "interval", seconds=RELOAD_SECONDS, id="reload", jobstore="internal")
        # the handler only asks: stopping waits for crawls, which must not happen inside a signal
        # handler that may have interrupted the scheduler's own start (a scheduler once hung there)
        asked = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: asked.set())
        scheduler.start()
        log.info("scheduled %d source(s): %s", len(ids), ", ".join(ids) or "none")
        try:
            while not asked.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        _stop(scheduler)


def copy_jobs(source_url: str, target_url: str) -> int:
    """Carry an archive's schedule over to a copy of it: every crawl job now crawls into the
    copy, and paused jobs stay paused. Returns how many jobs moved."""
    with job_store(source_url) as old, job_store(target_url) as new:
        jobs = old.get_jobs()
        for job in jobs:
            extra = {"next_run_time": None} if job.next_run_time is None else {}
            new.add_job(crawl_job, job.trigger, id=job.id, name=job.name, replace_existing=True,
                        args=[job.args[0], target_url], **extra)
    return len(jobs)


@contextmanager
def job_store(db_url: str) -> Iterator[BaseScheduler]:
    """The archive's jobs, editable without running them (the ``schedule`` commands)."""
    scheduler = build_scheduler(db_url)
    scheduler.start(paused=True)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)
