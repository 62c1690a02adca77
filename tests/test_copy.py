"""Moving an archive from its SQLite file to PostgreSQL (and back) with `speech-archive copy`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from archive.query.search import search
from archive.storage.db import open_archive, sessions
from archive.storage.models import Base, Speech
from scheduler import job_store
from tests.conftest import pg_schema, run_cli
from tests.test_archive import PARAS, archive_html, html_page
from tests.test_scheduler import sources_for

QUERIES = ["驻村", "基层组织", "讲话", "\"工作会议\"", "会 -驻村"]


def tables(db_url: str) -> dict[str, list[dict]]:
    """Every row of every archive table, times in UTC, in primary-key order."""
    engine = open_archive(db_url)
    try:
        with engine.connect() as conn:
            return {t.name: [{k: _utc(v) for k, v in row.items()}
                             for row in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def vacuumed(db_url: str, table: str) -> bool:
    """Whether the table has been vacuumed by hand (not autovacuum) on PostgreSQL. Whether its pages
    are all-visible afterwards depends on what other transactions the server holds open."""
    engine = open_archive(db_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
                                     "WHERE schemaname = current_schema() AND relname = :t"), {"t": table}).scalar()
    finally:
        engine.dispose()


def _utc(value: object) -> object:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def found(db_url: str, query: str) -> list[int]:
    """Ids of the speeches a search finds (in process: the command's own path is tested elsewhere)."""
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        ids = sorted(hit.speech.id for hit in search(session, query, limit=100))
    engine.dispose()
    return ids


@pytest.mark.postgres
def test_a_sqlite_archive_moves_to_postgresql_whole_and_back(tmp_path: Path, demo_site, cli) -> None:  # noqa: ANN001
    sqlite = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    source = sources_for(tmp_path, demo_site.url) / "demo.toml"
    assert run_cli(cli, "--db", sqlite, "crawl", str(source), timeout=180).returncode == 0
    run_cli(cli, "--db", sqlite, "schedule", "add", str(source))
    run_cli(cli, "--db", sqlite, "schedule", "pause", "demo")
    before = tables(sqlite)
    assert all(before[t] for t in ("sources", "crawl_runs", "blobs", "captures", "speeches", "dup_groups", "shingles"))

    with pg_schema() as pg:
        result = run_cli(cli, "--db", sqlite, "copy", pg, timeout=300)
        assert result.returncode == 0, result.stderr
        assert f"{len(before['speeches'])} speeches" in result.stdout and "1 scheduled crawls" in result.stdout
        assert tables(pg) == before  # every row, ids and all
        assert vacuumed(pg, "speeches") and vacuumed(pg, "speech_grams")  # so covering indexes serve at once
        for query in QUERIES:  # the full-text index was built in PostgreSQL's own form
            assert found(pg, query) == found(sqlite, query), query
        with job_store(pg) as store:
            [job] = store.get_jobs()
        assert job.next_run_time is None and list(job.args) == [str(source.resolve()), pg]  # paused, crawling into pg

        engine = open_archive(pg, writer=True)  # ids continue after the copied ones
        with sessions(engine)() as session:
            top = session.scalar(select(func.max(Speech.id)))
            [new] = archive_html(session, "http://new.cn/1.html", html_page("新讲话", PARAS[1:4]))
            assert new.id == top + 1 and new.group_id is not None
        engine.dispose()

        again = run_cli(cli, "--db", sqlite, "copy", pg)
        assert again.returncode == 2 and "already holds" in again.stderr and "Traceback" not in again.stderr

        back = f"sqlite:///{tmp_path / 'b.sqlite3'}"
        assert run_cli(cli, "--db", pg, "copy", back, timeout=300).returncode == 0
        assert len(tables(back)["speeches"]) == len(before["speeches"]) + 1
        assert found(back, "新讲话") == found(pg, "新讲话") != []


def test_copying_an_archive_onto_itself_is_refused(tmp_path: Path, cli) -> None:  # noqa: ANN001
    db = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    result = run_cli(cli, "--db", db, "copy", db)
    assert result.returncode == 2 and "the target is the archive itself" in result.stderr
