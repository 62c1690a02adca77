"""The ingest path: cleaning on a pool of processes gives the same archive as cleaning in one, and
cleaning a crashed run owed is done on the next run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from archive import ingest
from archive.storage import store
from archive.storage.db import open_archive, sessions
from archive.storage.models import Capture, CrawlRun, DupGroup, Speech
from cleaners import SiteRules
from tests.changing_site import ChangingSite
from tests.conftest import crawl_runs, run_cli
from tests.sites import speech

RULES = SiteRules(body_selector="div.c")
CHROME = "本文由讲话稿网整理发布，转载请注明出处"  # a site's own line under every speech: learned, then removed


def pages() -> list[tuple[str, str]]:
    """(url, html) of 40 pages of two sites: distinct speeches, copies of them on the other site
    (one in traditional script's stead, cut short), and a compilation of two."""
    out = []
    for n in range(30):
        title, paras = speech(n)
        out.append((f"http://a.cn/{n}.html", _html(title, [*paras, CHROME])))
    for n in range(0, 30, 3):
        title, paras = speech(n)
        out.append((f"http://b.cn/{n}.html", _html(title, paras[: max(3, len(paras) - 2)])))
    out.append(("http://b.cn/both.html", _html("讲话两篇", [*speech(4)[1], *speech(7)[1]])))
    return out


def _html(title: str, paras: list[str]) -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><div class='crumb'>首页 > 讲话</div>"
            f"<div class='c'><h1>{title}</h1>{body}</div></body></html>")


def captured(db_url: str) -> None:
    """An archive holding the pages raw, none cleaned yet."""
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        source = store.ensure_source(session, "test", {})
        for url, html in pages():
            store.save_capture(session, source, None, store.Fetched(
                url=url, final_url=url, canonical_url=url, status=200, headers={}, encoding="utf-8",
                body=html.encode(), fetched_at=datetime(2026, 1, 1, tzinfo=UTC)))
        session.commit()
    engine.dispose()


def dump(db_url: str) -> str:
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        speeches = [(s.id, s.capture_id, s.index_in_page, s.title, s.text, s.group_id, s.truncated, s.compilation,
                     s.removals, s.previous_id) for s in session.scalars(select(Speech).order_by(Speech.id))]
        groups = [(g.id, g.canonical_id, g.size) for g in session.scalars(select(DupGroup).order_by(DupGroup.id))]
    engine.dispose()
    return json.dumps([speeches, groups], ensure_ascii=False, default=str)


def reclean(db_url: str, workers: int, rules: SiteRules = RULES) -> int:
    """Clean every capture again as ``speech-archive reclean --workers N`` does; returns the processes used."""
    engine = open_archive(db_url, writer=True)
    with sessions(engine)() as session:
        job = ingest.Ingest(session, workers=workers)
        ids = session.scalars(select(Capture.id).where(Capture.root_id.is_(None)).order_by(Capture.id)).all()
        ingest.add_stored(job, ids, lambda _c: rules, lambda c: c.canonical_url.split("/")[2])
        job.close()
    engine.dispose()
    return job.processes


def test_cleaning_on_two_processes_gives_the_archive_one_gives(tmp_path: Path) -> None:
    archives = {}
    for workers in (1, 2):
        db_url = f"sqlite:///{tmp_path / f'w{workers}.sqlite3'}"
        captured(db_url)
        for _ in range(2):  # new speeches, then again: the second learns the site's chrome from the first
            assert reclean(db_url, workers) == workers
        archives[workers] = dump(db_url)
    speeches, groups = json.loads(archives[1])
    assert len(speeches) >= 40 and len(groups) < len(speeches)  # copies were grouped
    assert all(CHROME not in s[4] for s in speeches)  # the learned layer ran
    assert sum(s[1] == 41 for s in speeches) == 2  # the compilation page gave its two speeches
    assert archives[2] == archives[1]


def test_work_done_ahead_answers_once_and_is_bounded() -> None:
    from archive.ahead import Ahead

    computed = []
    length = Ahead(lambda text: computed.append(text) or len(text), size=2)
    length.keep("甲乙", 99)  # a wrong value shows which answer was used
    assert length("甲乙") == 99 and computed == []
    assert length("甲乙") == 2 and computed == ["甲乙"]  # once: the next call computes
    for word in ("一", "二", "三"):
        length.keep(word, 0)
    assert list(length.kept) == ["二", "三"]  # the oldest never asked for went first


def test_new_pages_cleaned_on_two_processes_give_the_archive_one_gives_and_the_pool_computes_ahead(
        tmp_path: Path) -> None:
    """New pages (the crawl's path): the pool also computes each speech's sketch and full-text
    document, and the writer uses them instead of computing them again."""
    from archive.dedup.grouping import fingerprint
    from archive.fulltext import sqlite as fts

    archives = {}
    hits = (fingerprint.hits, fts.document.hits)
    for workers in (1, 2):
        db_url = f"sqlite:///{tmp_path / f'p{workers}.sqlite3'}"
        captured(db_url)
        engine = open_archive(db_url, writer=True)
        with sessions(engine)() as session:
            job = ingest.Ingest(session, workers=workers)
            html = dict(pages())
            for capture in session.scalars(select(Capture).order_by(Capture.id)):
                job.add(capture, ingest.Page(capture.id, [html[capture.url]], capture.url, RULES, job.limits),
                        capture.url.split("/")[2])
            job.close()
        engine.dispose()
        archives[workers] = dump(db_url)
        assert not fingerprint.kept and not fts.document.kept  # what the pool sent was all used
    assert archives[2] == archives[1]
    speeches = json.loads(archives[2])[0]
    assert len(speeches) >= 40
    assert fingerprint.hits - hits[0] >= len(speeches) and fts.document.hits - hits[1] >= len(speeches)


def test_pages_a_killed_run_left_uncleaned_are_cleaned_on_the_next_run(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    with ChangingSite(articles=3) as site:
        source = site.source_file(tmp_path)
        assert run_cli(cli, "--db", db_url, "crawl", str(source)).returncode == 0
        engine = open_archive(db_url)
        with engine.begin() as conn:  # as a crawl killed between a capture's commit and its speeches' leaves it
            owed = conn.scalar(select(Capture.id).where(Capture.url.like("%/a/1.html")))
            conn.execute(text("DELETE FROM speeches WHERE capture_id = :c"), {"c": owed})
            conn.execute(text("UPDATE captures SET cleaned_at = NULL WHERE id = :c"), {"c": owed})
        site.requests.clear()
        done = run_cli(cli, "--db", db_url, "crawl", str(source), "--log-level", "INFO")
        assert done.returncode == 0, done.stderr
        assert "cleaning 1 pages an interrupted run left uncleaned" in done.stderr
        assert not any(h.get("if-none-match") is None for _, h in site.article_requests())  # nothing refetched whole
    with sessions(engine)() as session:
        capture = session.get(Capture, owed)
        assert capture.cleaned_at is not None
        assert [s.title for s in session.scalars(select(Speech).where(Speech.capture_id == owed))] == ["讲话第1篇"]
    engine.dispose()


def test_an_archive_that_stops_taking_writes_stops_the_crawl_with_a_clear_error(db_url: str, tmp_path: Path,  # noqa: ANN001
                                                                                cli) -> None:
    with ChangingSite(articles=40, delay=0.15) as site:
        source = site.source_file(tmp_path)
        proc = subprocess.Popen([*cli, "--db", db_url, "crawl", str(source)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        engine = open_archive(db_url)
        deadline = time.monotonic() + 60
        while not _count(engine, "speeches"):  # the first batch is committed
            assert proc.poll() is None and time.monotonic() < deadline, "the crawl archived nothing"
            time.sleep(0.2)
        site.delay = 1  # the rest comes slowly, so a crawl that fetched on regardless would be seen to
        with engine.begin() as conn:  # the archive breaks under the crawl (a dropped table, as a bad migration would)
            conn.execute(text("ALTER TABLE speeches RENAME TO speeches_gone"))
        _, err = proc.communicate(timeout=90)
        assert proc.returncode != 0
        assert "the archive could not be written, so the crawl stopped" in err
        assert len([p for p, _ in site.article_requests()]) < 40  # it stopped rather than fetching on for nothing
        [run] = [r for r in crawl_runs(db_url)]
        assert run.status == "interrupted"
        assert _count(engine, "captures") >= run.pages > 0  # what was committed before is kept
    engine.dispose()


def _descendants(pid: int) -> dict[int, str]:
    """The processes ``pid`` started, and theirs: pid → the name ps shows."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        parents[int(entry.name)] = (int(rest[1]), name)
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, name) in parents.items():
            if ppid == parent and child not in found:
                found[child] = name
                frontier.append(child)
    return found


def test_a_writer_process_that_is_killed_stops_the_crawl_with_a_clear_error(tmp_path: Path, cli) -> None:  # noqa: ANN001
    """The writer runs beside the crawl in a process of its own (shown as archive-writer, its
    cleaners as archive-clean); killed (out of memory, by hand), the crawl stops and says so, and
    what it committed is kept. The processes' protocol is the same on both backends: SQLite only."""
    db_url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with ChangingSite(articles=40, delay=0.15) as site:
        proc = subprocess.Popen([*cli, "--db", db_url, "crawl", str(site.source_file(tmp_path))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        engine = open_archive(db_url)
        deadline = time.monotonic() + 60
        while not _count(engine, "speeches"):  # the first batch is committed
            assert proc.poll() is None and time.monotonic() < deadline, "the crawl archived nothing"
            time.sleep(0.2)
        writers = [pid for pid, name in _descendants(proc.pid).items() if name == "archive-writer"]
        assert len(writers) == 1, _descendants(proc.pid)
        site.delay = 1  # the rest comes slowly, so a crawl that fetched on regardless would be seen to
        os.kill(writers[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=90)
    assert proc.returncode != 0
    assert "the archive could not be written, so the crawl stopped: the archive writer process ended with " \
           "exit code -9" in err, err
    assert len([p for p, _ in site.article_requests()]) < 40
    [run] = crawl_runs(db_url)
    assert run.status == "interrupted"
    assert _count(engine, "captures") >= run.pages > 0 and run.speeches_new == _count(engine, "speeches") > 0
    engine.dispose()


def test_ctrl_c_reaches_every_process_of_a_crawl_and_the_writer_still_writes_what_it_holds(tmp_path: Path,  # noqa: ANN001
                                                                                           cli) -> None:
    """Ctrl-C at a terminal signals the crawl's whole process group: Scrapy closes in order, and the
    writer and its cleaners, which leave the signal to it, write every page handed over first."""
    db_url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    with ChangingSite(articles=40, delay=0.15) as site:
        proc = subprocess.Popen([*cli, "--db", db_url, "crawl", str(site.source_file(tmp_path))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        engine = open_archive(db_url)
        deadline = time.monotonic() + 60
        while _count(engine, "speeches") < 3:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the crawl archived nothing (exit {proc.poll()}): {proc.communicate()[1][-2000:]}")
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=90)
    assert "the archive could not be written" not in err and "Traceback" not in err, err
    [run] = crawl_runs(db_url)
    assert run.status == "interrupted" and run.stats["finish_reason"] == "shutdown"
    assert run.pages == _count(engine, "captures") < 40 and run.speeches_new == _count(engine, "speeches")
    with engine.connect() as conn:  # every page handed over was cleaned, none left owed
        assert conn.scalar(text("SELECT count(*) FROM captures WHERE cleaned_at IS NULL")) == 0
    engine.dispose()


REFUSE = {  # the database refuses one page's speech, as it would data it cannot hold
    "sqlite": ["CREATE TRIGGER refuse BEFORE INSERT ON speeches WHEN NEW.title = '讲话第1篇' "
               "BEGIN SELECT RAISE(ABORT, 'refused by the archive'); END"],
    "postgresql": ["CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   "IF NEW.title = '讲话第1篇' THEN RAISE EXCEPTION 'refused by the archive' "
                   "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$",
                   "CREATE TRIGGER refuse BEFORE INSERT ON speeches FOR EACH ROW EXECUTE FUNCTION refuse()"],
}


def test_a_page_the_archive_refuses_is_noted_and_the_crawl_goes_on(db_url: str, tmp_path: Path, cli) -> None:  # noqa: ANN001
    engine = open_archive(db_url)
    with engine.begin() as conn:
        for statement in REFUSE[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    with ChangingSite(articles=4) as site:
        done = run_cli(cli, "--db", db_url, "crawl", str(site.source_file(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "the archive refused its speeches" in done.stderr and "refused by the archive" in done.stderr
    with sessions(engine)() as session:
        assert sorted(s.title for s in session.scalars(select(Speech))) == ["讲话第0篇", "讲话第2篇", "讲话第3篇"]
        refused = session.scalars(select(Capture).where(Capture.url.like("%/a/1.html"))).one()
        assert refused.note.startswith("the archive refused its speeches") and refused.cleaned_at is not None
        [run] = session.scalars(select(CrawlRun)).all()
        assert run.pages == 4 and run.speeches_new == 3 and run.stats["clean/failed"] == 1
    engine.dispose()


def _count(engine, table: str) -> int:  # noqa: ANN001
    with engine.connect() as conn:
        return conn.scalar(text(f"SELECT count(*) FROM {table}"))


def test_a_compilation_cut_at_its_copies_is_cut_again_by_reclean(tmp_path: Path) -> None:
    """Reclean drops the pieces a compilation was cut into and, its text unchanged, cuts it anew."""
    from tests.noise.compose import page_html
    from tests.test_compilations import missed_pages

    [(c, _)] = missed_pages(1)
    db_url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        source = store.ensure_source(session, "test", {})
        pages = [("http://site.test/fanwen/0.html", page_html(c.paras, f"讲话稿范文{len(c.speeches)}篇", template=0))]
        pages += [(f"http://copies.test/{k}.html", _html(f"讲话{k}", gold.split("\n"))) for k, gold in enumerate(c.speeches)]
        job = ingest.Ingest(session, workers=1)
        for url, html in pages:
            capture = store.save_capture(session, source, None, store.Fetched(
                url=url, final_url=url, canonical_url=url, status=200, headers={}, encoding="utf-8",
                body=html.encode(), fetched_at=datetime(2026, 1, 1, tzinfo=UTC)))
            job.add(capture, ingest.Page(capture.id, [html], url, SiteRules(), job.limits), url.split("/")[2])
        job.close()
    pieces = dump_pieces(engine)
    assert len(pieces) >= 2  # cut at its copies as they arrived
    reclean(db_url, 1, SiteRules())
    assert dump_pieces(engine) == pieces
    engine.dispose()


def dump_pieces(engine) -> list[str]:  # noqa: ANN001
    with engine.connect() as conn:
        return sorted(conn.scalars(text("SELECT text FROM speeches WHERE index_in_page < 0")))
