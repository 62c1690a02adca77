"""The scheduler: jobs from source files, persisted in the archive, each crawl in a subprocess."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive.db import open_archive
from archive.models import CrawlRun, Speech
from scheduler import build_scheduler, schedule_sources

ROOT = Path(__file__).resolve().parent.parent


def sources_for(tmp_path: Path, base_url: str) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir(parents=True)
    demo = (ROOT / "sources" / "demo.toml").read_text(encoding="utf-8")
    (folder / "demo.toml").write_text(demo.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{base_url}"'),
                                      encoding="utf-8")
    (folder / "unscheduled.toml").write_text('name = "x"\nstart_urls = ["http://x.cn/"]\n', encoding="utf-8")
    (folder / "broken.toml").write_text('name = "y"\nstart_urls = ["http://y.cn/"]\nschedule = "every day"\n',
                                        encoding="utf-8")
    return folder


def test_jobs_come_from_source_schedules_and_persist(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    open_archive(db).dispose()
    for _ in range(2):  # a restart replaces the job instead of adding a second one
        scheduler = build_scheduler(db, BackgroundScheduler)
        scheduler.start(paused=True)
        assert schedule_sources(scheduler, sources_for(tmp_path / str(_), "http://127.0.0.1:1"), db) == ["crawl:demo"]
        [job] = scheduler.get_jobs()
        assert (job.id, job.coalesce, job.max_instances, job.misfire_grace_time) == ("crawl:demo", True, 1, 3600)
        assert str(job.trigger) == "cron[month='*', day='*', day_of_week='*', hour='3', minute='0']"
        scheduler.shutdown(wait=False)


def test_a_due_job_crawls_in_a_subprocess(tmp_path: Path, demo_site) -> None:  # noqa: ANN001
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    open_archive(db).dispose()
    scheduler = build_scheduler(db, BackgroundScheduler)
    scheduler.start(paused=True)
    schedule_sources(scheduler, sources_for(tmp_path, demo_site.url), db)
    scheduler.modify_job("crawl:demo", next_run_time=datetime.now(UTC))
    scheduler.resume()
    engine = create_engine(db)
    deadline = time.monotonic() + 90
    with Session(engine) as session:
        while time.monotonic() < deadline:
            run = session.scalar(select(CrawlRun).where(CrawlRun.status == "finished"))
            if run:
                break
            time.sleep(0.5)
            session.expire_all()
        assert run is not None, "the scheduled crawl did not finish"
        assert len(session.scalars(select(Speech)).all()) >= 14
    scheduler.shutdown(wait=True)
    engine.dispose()
