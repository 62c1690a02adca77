"""Scheduled crawls: APScheduler 3.x, one job per source file that has a ``schedule``.

Each crawl runs in its own subprocess — Scrapy's reactor cannot restart inside one process, and a
crashing spider must not take the scheduler down. Jobs live in the archive database
(SQLAlchemyJobStore), have explicit ids (``crawl:NAME``) and are replaced on start, so editing a
source file's schedule and restarting is enough. ``coalesce`` runs a missed job once,
``max_instances=1`` never overlaps two crawls of one source, and a one-hour grace time keeps a
daily crawl that was due while the machine slept (APScheduler's default drops it after 1 s).
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from crawler.sources import SourceError, load_source

log = logging.getLogger("speech-archive.scheduler")
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}


def crawl_job(source_path: str, db_url: str) -> int:
    """Run one crawl in a subprocess; return its exit status (module-level: jobs are pickled)."""
    cmd = [sys.executable, "-m", "cli", "--db", db_url, "crawl", source_path]
    log.info("starting crawl: %s", source_path)
    status = subprocess.run(cmd, check=False).returncode
    (log.info if status == 0 else log.error)("crawl of %s ended with status %s", source_path, status)
    return status


def schedule_sources(scheduler: BaseScheduler, sources_dir: Path, db_url: str) -> list[str]:
    """Add or replace one job per scheduled source file; return the job ids."""
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
            trigger = CronTrigger.from_crontab(source.schedule, timezone="UTC")
        except ValueError as exc:
            log.error("skipping %s: bad schedule %r: %s", path, source.schedule, exc)
            continue
        job_id = f"crawl:{source.name}"
        scheduler.add_job(crawl_job, trigger, id=job_id, name=source.name, replace_existing=True,
                          args=[str(path.resolve()), db_url])
        ids.append(job_id)
    return ids


def build_scheduler(db_url: str, scheduler_class: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    return scheduler_class(jobstores={"default": SQLAlchemyJobStore(url=db_url, tablename="scheduler_jobs")},
                           job_defaults=JOB_DEFAULTS, timezone="UTC")


def run_forever(db_url: str, sources_dir: Path) -> None:
    """The ``speech-archive scheduler`` process: schedule every source, run until SIGTERM or Ctrl-C."""
    scheduler = build_scheduler(db_url)
    ids = schedule_sources(scheduler, sources_dir, db_url)
    log.info("scheduled %d source(s): %s", len(ids), ", ".join(ids) or "none")
    signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=True))
    try:
        scheduler.start()
    except KeyboardInterrupt:
        scheduler.shutdown(wait=True)
