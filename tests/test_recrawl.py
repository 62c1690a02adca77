"""Incremental recrawls against a real local site that changes between crawls, on both backends.

Each crawl is a real ``speech-archive crawl`` process. Between crawls the site gains an article,
edits one, or is killed mid-crawl; the archive must fetch only what it needs, keep every version
of an edited speech, and lose or duplicate nothing when a crawl dies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture, CrawlRun, DupGroup, Speech
from crawler.sources import SourceError, load_source
from tests.changing_site import ChangingSite
from tests.conftest import ROOT, crawl_runs, run_cli


def crawl(cli: list[str], db_url: str, source: Path) -> subprocess.CompletedProcess:
    result = run_cli(cli, "--db", db_url, "crawl", str(source))
    assert result.returncode == 0, result.stderr
    return result


def archived(db_url: str) -> list[Speech]:
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        rows = session.scalars(select(Speech).order_by(Speech.id)).all()
    engine.dispose()
    return list(rows)


def last_run(db_url: str) -> CrawlRun:
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        run = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc())).first()
    engine.dispose()
    return run


def test_recrawl_fetches_new_articles_only_and_versions_edited_ones(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    with ChangingSite(articles=3) as site:
        source = site.source_file(tmp_path)
        crawl(cli, db_url, source)
        assert len(archived(db_url)) == 3
        assert len(site.article_requests()) == 3

        site.requests.clear()
        crawl(cli, db_url, source)  # nothing changed: list page only, no article fetched again
        assert site.article_requests() == []
        run = last_run(db_url)
        assert run.status == "finished" and run.stats["crawl/skipped_archived"] == 3
        assert len(archived(db_url)) == 3

        site.add_article(3)
        site.edit_article(1, "最后,我再补充强调一点:各单位要在月底前报送落实情况。")
        site.requests.clear()
        crawl(cli, db_url, source)  # revisit_days absent: the edit is not seen, the new article is
        assert [p for p, _ in site.article_requests()] == ["/a/3.html"]

        source = site.source_file(tmp_path, revisit_days=0)
        site.requests.clear()
        crawl(cli, db_url, source)  # every archived article asked again, conditionally
        asked = dict(site.article_requests())
        assert sorted(asked) == ["/a/0.html", "/a/1.html", "/a/2.html", "/a/3.html"]
        assert all("if-none-match" in h and "if-modified-since" in h for h in asked.values())
        run = last_run(db_url)
        assert run.stats["crawl/not_modified"] == 3 and run.stats["archive/versions"] == 1
        assert run.status == "finished"

    speeches = archived(db_url)
    assert len(speeches) == 5  # four articles, and the edited one twice
    new = next(s for s in speeches if s.previous_id is not None)
    old = next(s for s in speeches if s.id == new.previous_id)
    assert "月底前报送" in new.text and "月底前报送" not in old.text and new.url == old.url
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        assert session.get(DupGroup, new.group_id).canonical_id == new.id  # the newest version is canonical
        assert session.scalar(select(func.count()).select_from(Speech).where(Speech.group_id == new.group_id)) == 2
    engine.dispose()
    history = run_cli(cli, "--db", db_url, "versions", str(old.id))
    assert history.returncode == 0, history.stderr
    assert f"#{old.id}" in history.stdout and f"#{new.id}" in history.stdout
    assert "+最后,我再补充强调一点" in history.stdout


def test_a_crawl_killed_mid_run_resumes_without_loss_or_duplicates(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    with ChangingSite(articles=12) as site:
        source = site.source_file(tmp_path)
        site.hold(after=5)  # the kill lands mid-run
        proc = subprocess.Popen([*cli, "--db", db_url, "crawl", str(source)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 90
        while len(archived(db_url)) < 3:
            assert proc.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl archived nothing"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        site.release()
        before = len(archived(db_url))
        assert 3 <= before < 12
        site.requests.clear()
        crawl(cli, db_url, source)
        assert len(site.article_requests()) == 12 - before  # only what the killed run had not archived

    per_url = Counter(s.url for s in archived(db_url))
    assert len(per_url) == 12 and set(per_url.values()) == {1}
    assert [r.status for r in crawl_runs(db_url)] == ["interrupted", "finished"]  # the killed run is closed when the next one starts


def test_a_crawl_stopped_with_sigterm_is_interrupted_not_judged(tmp_path: Path, cli,  # noqa: ANN001
                                                               webhook: list[dict]) -> None:
    db_url = f"sqlite:///{tmp_path / 'a.sqlite3'}"  # the pipeline's bookkeeping, the same on both backends
    with ChangingSite(articles=12, delay=0.4) as site:
        source = site.source_file(tmp_path)
        crawl(cli, db_url, source)  # a history for the next run to be judged against
        before = len(archived(db_url))
        for n in range(12, 72):
            site.add_article(n)
        state = tmp_path / "state"  # where Scrapy's remote-control server would leave its job file
        proc = subprocess.Popen([*cli, "--db", db_url, "crawl", str(source)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, "XDG_STATE_HOME": str(state)})
        deadline = time.monotonic() + 90
        while len(archived(db_url)) < before + 2:
            assert proc.poll() is None, "the crawl ended before it could be stopped"
            assert time.monotonic() < deadline, "the crawl archived nothing"
            time.sleep(0.2)
        assert not list(state.rglob("*.json")), "a crawl opened Scrapy's code-running remote-control server"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    first, stopped = crawl_runs(db_url)
    # a part of a crawl, stopped on purpose: neither a finished crawl nor a sign of a broken site
    assert (first.status, stopped.status) == ("finished", "interrupted") and stopped.stats["finish_reason"] == "shutdown"
    speeches = archived(db_url)
    assert stopped.speeches_new == len(speeches) - before and len({s.url for s in speeches}) < 72
    assert webhook == []


def test_revisit_days_must_be_a_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "b"\nstart_urls = ["http://b.cn/"]\nrevisit_days = "weekly"\n', encoding="utf-8")
    with pytest.raises(SourceError, match="revisit_days: expected a number of days, got .weekly."):
        load_source(str(path))


def _run_started_after(db_url: str, moment: datetime, timeout: float = 90) -> CrawlRun:
    """The first run that started after ``moment`` and has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [r for r in crawl_runs(db_url) if r.started_at.replace(tzinfo=None) > moment and r.status != "running"]
        if done:
            return done[0]
        time.sleep(0.5)
    raise AssertionError(f"no run started after {moment} ended within {timeout}s")


def test_the_scheduler_follows_a_changing_site(tmp_path: Path) -> None:
    """A real scheduler crawling every 2 s while the site gains articles, edits one, and is redesigned."""
    db_url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    open_archive(db_url).dispose()
    (tmp_path / "sources").mkdir()
    log = (tmp_path / "scheduler.log").open("w")
    with ChangingSite(articles=3) as site:
        site.source_file(tmp_path / "sources", schedule="every 2 s", revisit_days=0)
        scheduler = subprocess.Popen([sys.executable, "-m", "cli", "--db", db_url, "scheduler", "--sources-dir",
                                      str(tmp_path / "sources")], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            first = _run_started_after(db_url, datetime(2000, 1, 1))
            assert first.status == "finished" and first.speeches_new == 3

            changed_at = datetime.now(UTC).replace(tzinfo=None)
            site.add_article(3)
            site.edit_article(0, "会后各乡镇要立即传达会议精神,十日内报送贯彻落实方案。")
            second = _run_started_after(db_url, changed_at)
            assert second.status == "finished" and second.speeches_new == 2, second.stats  # article 3, version of 0
            assert second.stats["archive/versions"] == 1

            redesigned_at = datetime.now(UTC).replace(tzinfo=None)
            site.add_article(4, layout="app")
            site.add_article(5, layout="app")
            third = _run_started_after(db_url, redesigned_at)
            assert third.status == "degraded" and "gave no speech" in third.stats["degraded"]

            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(timeout=60) == 0
        finally:
            scheduler.kill()
            log.close()
    runs = [r for r in crawl_runs(db_url) if r.finished_at is not None]
    for earlier, later in zip(runs, runs[1:], strict=False):  # max_instances=1: never two crawls at once
        assert earlier.finished_at <= later.started_at
    speeches = archived(db_url)
    assert len({s.url for s in speeches}) == 4 and len(speeches) == 5


def test_a_crawl_ends_when_the_process_that_started_it_is_killed(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """SIGKILL of the scheduler (here: any starter using child_env, as the scheduler does) must not
    leave its crawl running; the next crawl resumes, and no page is captured twice."""
    with ChangingSite(articles=40) as site:
        source = site.source_file(tmp_path)
        site.hold(after=5)
        starter = subprocess.Popen(
            [sys.executable, "-c", "import subprocess, sys; from crawler.lifeline import child_env; "
             "p = subprocess.Popen(sys.argv[1:], env=child_env()); print(p.pid, flush=True); p.wait()",
             *cli, "--db", db_url, "crawl", str(source)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        child = int(starter.stdout.readline())
        deadline = time.monotonic() + 90
        while not archived(db_url):
            assert time.monotonic() < deadline, "the crawl archived nothing"
            time.sleep(0.2)
        starter.kill()
        starter.wait()
        site.release()
        deadline = time.monotonic() + 60
        while _alive(child):
            assert time.monotonic() < deadline, "the crawl outlived the process that started it"
            time.sleep(0.2)
        [killed] = crawl_runs(db_url)
        assert killed.status == "interrupted" and len(archived(db_url)) < 40
        crawl(cli, db_url, source)  # the lease died with the crawl: the next one runs, and resumes
    first, second = crawl_runs(db_url)
    assert second.status == "finished" and first.finished_at <= second.started_at
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        captured = session.scalars(select(Capture.canonical_url)).all()
    engine.dispose()
    assert len(captured) == len(set(captured)) == 40 and len({s.url for s in archived(db_url)}) == 40


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie left by its killed parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_two_crawls_of_one_source_never_run_at_once(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """Whoever starts them (scheduler, run-now, crawl): the second is refused, naming the first."""
    with ChangingSite(articles=12, delay=0.3) as site:
        source = site.source_file(tmp_path)
        first = subprocess.Popen([*cli, "--db", db_url, "crawl", str(source)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 90
        while not site.article_requests():  # the first crawl holds its lease and is fetching articles
            assert first.poll() is None and time.monotonic() < deadline, "the first crawl fetched nothing"
            time.sleep(0.05)
        site.delay = 3  # the first crawl is surely still running while the second starts
        second = run_cli(cli, "--db", db_url, "crawl", str(source))
        assert second.returncode == 2 and "changing is already being crawled" in second.stderr
        site.delay = 0
        assert first.wait(timeout=120) == 0
        again = run_cli(cli, "--db", db_url, "crawl", str(source))  # the lease went with the first crawl
    assert again.returncode == 0, again.stderr
    assert [r.status for r in crawl_runs(db_url)] == ["finished", "finished"]


def test_one_page_under_two_addresses_is_archived_once_with_the_second_noted(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    """The same body reached by another URL of the site (an id alias, a mirror path) gives no second
    copy of its speeches; the URL is kept, noted as an alias, and reclean leaves it so."""
    with ChangingSite(articles=2) as site:
        site.set("/a/90.html", site.pages["/a/0.html"].body)
        crawl(cli, db_url, site.source_file(tmp_path))
        assert run_cli(cli, "--db", db_url, "reclean").returncode == 0
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        notes = dict(session.execute(select(Capture.canonical_url, Capture.note)).all())
        urls = [s.url for s in session.scalars(select(Speech))]
    engine.dispose()
    [(alias_url, note)] = [(u, n) for u, n in notes.items() if n]
    assert len(notes) == 3 and note.startswith("alias of capture") and alias_url.endswith(("/a/0.html", "/a/90.html"))
    assert alias_url not in urls and len(urls) == len(set(urls)) == 2
