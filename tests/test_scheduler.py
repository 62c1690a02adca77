"""The scheduler: jobs from source files, persisted in the archive, each crawl in a subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive.storage import locks
from archive.storage.db import open_archive
from archive.storage.models import CrawlRun, Speech
from scheduler import build_scheduler, schedule_sources
from tests.conftest import pg_schema, run_cli

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


# ---- one scheduler per archive, clean stop, the schedule commands --------------------------------

def _start_scheduler(db: str, sources: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", "--db", db, "scheduler", "--sources-dir", str(sources)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(proc: subprocess.Popen, needle: str, timeout: float = 60) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        seen += line
        if needle in line:
            return seen
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"{needle!r} not seen:\n{seen}")


def test_a_second_scheduler_refuses_and_sigterm_stops_cleanly(db_url: str, tmp_path: Path) -> None:
    open_archive(db_url).dispose()
    sources = sources_for(tmp_path, "http://127.0.0.1:1")
    first = _start_scheduler(db_url, sources)
    try:
        _wait_for(first, "scheduled 1 source")
        second = subprocess.run([sys.executable, "-m", "cli", "--db", db_url, "scheduler", "--sources-dir",
                                 str(sources)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2 and "another scheduler" in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    finally:
        first.kill()
    third = _start_scheduler(db_url, sources)  # the lock went with the first process
    try:
        _wait_for(third, "scheduled 1 source")
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(timeout=30)


def test_schedule_commands(tmp_path: Path, demo_site, cli) -> None:  # noqa: ANN001
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    source = sources_for(tmp_path, demo_site.url) / "demo.toml"
    assert "scheduled demo: */5 * * * *" in run_cli(cli, "--db", db, "schedule", "add", str(source),
                                                    "--cron", "*/5 * * * *").stdout
    listed = run_cli(cli, "--db", db, "schedule", "list").stdout
    assert listed.startswith("demo") and "minute='*/5'" in listed and "paused" not in listed
    run_cli(cli, "--db", db, "schedule", "pause", "demo")
    assert "paused" in run_cli(cli, "--db", db, "schedule", "list").stdout
    run_cli(cli, "--db", db, "schedule", "resume", "demo")
    assert "paused" not in run_cli(cli, "--db", db, "schedule", "list").stdout
    missing = run_cli(cli, "--db", db, "schedule", "pause", "nope")
    assert missing.returncode == 2 and "no scheduled crawl for 'nope'" in missing.stderr
    assert run_cli(cli, "--db", db, "schedule", "run-now", str(source), timeout=180).returncode == 0
    assert " finished " in run_cli(cli, "--db", db, "runs", "--source", "demo").stdout
    run_cli(cli, "--db", db, "schedule", "remove", "demo")
    assert run_cli(cli, "--db", db, "schedule", "list").stdout == ""


def test_paused_jobs_stay_paused_when_the_scheduler_restarts(tmp_path: Path, cli) -> None:  # noqa: ANN001
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    sources = sources_for(tmp_path, "http://127.0.0.1:1")
    run_cli(cli, "--db", db, "schedule", "add", str(sources / "demo.toml"))
    run_cli(cli, "--db", db, "schedule", "pause", "demo")
    proc = _start_scheduler(db, sources)
    try:
        _wait_for(proc, "scheduled 1 source")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert "paused" in run_cli(cli, "--db", db, "schedule", "list").stdout


@pytest.mark.postgres
def test_locks_belong_to_one_archive_not_to_the_server() -> None:
    """Archives that share a PostgreSQL database (a schema each) never block each other's crawls or
    schedulers; within one archive the second holder is refused."""
    with pg_schema() as one, pg_schema() as other:
        with locks.hold(one, "crawl:changing", busy="changing is being crawled"):
            with locks.hold(other, "crawl:changing"), locks.hold(other, "scheduler"):
                pass
            with pytest.raises(locks.Busy, match="changing is being crawled by another process"):
                with locks.hold(one, "crawl:changing", busy="changing is being crawled"):
                    pass
