"""Exports as analysts use them: every format read back by pandas and DuckDB, rows valid against
the documented JSON Schema, a manifest beside each file, incremental exports by cursor."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import jsonschema
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.export.write import FIELDS, SCHEMA_VERSION, export, fields
from archive.query.search import QueryError
from archive.storage.models import Speech
from tests.conftest import run_cli
from tests.test_archive import PARAS, archive_html, html_page

SCHEMA = json.loads((Path(__file__).resolve().parent.parent / "docs" / "export-schema.json").read_text("utf-8"))


@pytest.fixture
def archive(session: Session) -> Session:
    archive_html(session, "http://a.cn/1.html", html_page("在全县驻村工作会议上的讲话", ["刘 敏 坚", "(2007年1月16日)", *PARAS]))
    archive_html(session, "http://b.cn/2.html", html_page("讲话", PARAS[:4] + ["……还剩3页未读,继续阅读"]))
    archive_html(session, "http://c.cn/3.html", html_page("关于例会制度的汇报", [
        "近年来,××乡为加强对村两委主要干部的教育、管理和培养,采取了二推一选、创业承诺等措施。",
        "推行例会制度,最根本目的就是要提高村干部的能力和水平,把他们培养成为民办实事的基层干部。"]))
    return session


def read_back(fmt: str, path: Path) -> tuple[pd.DataFrame, list[tuple]]:
    frame = {"jsonl": lambda: pd.read_json(path, lines=True), "csv": lambda: pd.read_csv(path),
             "parquet": lambda: pd.read_parquet(path)}[fmt]()
    reader = {"jsonl": "read_json_auto", "csv": "read_csv_auto", "parquet": "read_parquet"}[fmt]
    rows = duckdb.sql(f"select id, title, text from {reader}('{path}') order by id").fetchall()
    return frame, rows


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_pandas_and_duckdb_read_every_format(archive: Session, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"speeches.{fmt}"
    result = export(archive, fmt, out)
    frame, rows = read_back(fmt, out)
    stored = archive.scalars(select(Speech).order_by(Speech.id)).all()
    assert list(frame.columns) == list(FIELDS) and len(frame) == result.rows == len(stored)
    assert rows == [(s.id, s.title, s.text) for s in stored]
    assert frame["is_canonical"].sum() == 2  # two groups: the truncated copy joined the full one


def test_rows_are_valid_against_the_documented_schema(archive: Session, tmp_path: Path) -> None:
    export(archive, "jsonl", tmp_path / "x.jsonl")
    for line in (tmp_path / "x.jsonl").read_text(encoding="utf-8").splitlines():
        jsonschema.validate(json.loads(line), SCHEMA)


def test_manifest_describes_the_file(archive: Session, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    result = export(archive, "parquet", out)
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert result.manifest == tmp_path / "x.parquet.manifest.json"
    assert manifest["rows"] == 3 and manifest["schema_version"] == SCHEMA_VERSION and manifest["format"] == "parquet"
    assert manifest["columns"] == list(FIELDS)
    assert manifest["files"] == [{"path": "x.parquet", "bytes": out.stat().st_size,
                                  "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}]
    assert manifest["cursor_from"] is None and manifest["cursor_to"].endswith("Z")


def test_a_query_narrows_the_export(archive: Session, tmp_path: Path) -> None:
    result = export(archive, "jsonl", tmp_path / "q.jsonl", query="例会 OR 急躁情绪")
    titles = {json.loads(line)["title"] for line in (tmp_path / "q.jsonl").read_text(encoding="utf-8").splitlines()}
    assert result.rows == 3 and titles == {"在全县驻村工作会议上的讲话", "讲话", "关于例会制度的汇报"}
    assert export(archive, "jsonl", tmp_path / "r.jsonl", query="例会").rows == 1
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    assert manifest["filters"]["query"] == "例会 OR 急躁情绪"
    with pytest.raises(QueryError):
        export(archive, "jsonl", tmp_path / "bad.jsonl", query='"open')
    assert not (tmp_path / "bad.jsonl").exists()


def test_cursor_exports_only_what_changed_and_moves_atomically(db_url: str, cli, tmp_path: Path) -> None:  # noqa: ANN001
    from archive.storage.db import open_archive, sessions

    engine = open_archive(db_url)
    with sessions(engine)() as session:
        archive_html(session, "http://a.cn/1.html", html_page("第一篇讲话", PARAS))
    cursor = tmp_path / "cursor.json"
    first = run_cli(cli, "--db", db_url, "export", "--format", "jsonl", "--out", str(tmp_path / "1.jsonl"),
                    "--cursor", str(cursor))
    assert first.returncode == 0, first.stderr
    assert len((tmp_path / "1.jsonl").read_text(encoding="utf-8").splitlines()) == 1 and cursor.exists()
    with sessions(engine)() as session:
        archive_html(session, "http://c.cn/3.html", html_page("关于例会制度的汇报", [
            "推行例会制度,最根本目的就是要提高村干部的能力和水平,把他们培养成为民办实事的基层干部。" * 3]))
    second = run_cli(cli, "--db", db_url, "export", "--format", "jsonl", "--out", str(tmp_path / "2.jsonl"),
                     "--cursor", str(cursor))
    assert second.returncode == 0, second.stderr
    rows = [json.loads(x) for x in (tmp_path / "2.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["title"] for r in rows] == ["关于例会制度的汇报"]
    manifest = json.loads((tmp_path / "2.jsonl.manifest.json").read_text(encoding="utf-8"))
    assert manifest["cursor_from"] < manifest["cursor_to"] == json.loads(cursor.read_text())["updated_at"]
    third = run_cli(cli, "--db", db_url, "export", "--format", "jsonl", "--out", str(tmp_path / "3.jsonl"),
                    "--cursor", str(cursor))
    assert third.returncode == 0 and (tmp_path / "3.jsonl").read_text(encoding="utf-8") == ""
    engine.dispose()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_segmented_column_holds_the_words_of_the_simplified_text(archive: Session, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"words.{fmt}"
    export(archive, fmt, out, segment=True)
    frame, _ = read_back(fmt, out)
    assert list(frame.columns) == list(fields(segment=True))
    for row in frame.to_dict("records"):
        words = row["text_segmented"]
        # nothing added or lost: the words put together again are the text, paragraph by paragraph
        assert [line.replace(" ", "") for line in words.split("\n")] == \
            [line.replace(" ", "") for line in row["text_simplified"].split("\n")]
    report = frame[frame["title"] == "关于例会制度的汇报"].iloc[0]["text_segmented"].split()
    assert {"例会", "制度", "村干部"} <= set(report) and "例会制度" not in report
    if fmt == "jsonl":
        for line in out.read_text(encoding="utf-8").splitlines():
            jsonschema.validate(json.loads(line), SCHEMA)


def test_a_changed_page_exports_as_a_new_version_pointing_to_the_old(session: Session, tmp_path: Path) -> None:
    (old,) = archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS))
    (new,) = archive_html(session, "http://a.cn/1.html", html_page("讲话", [*PARAS[:-1], "此段在重新发布时改写过了,内容与原来的版本不同。"]))
    export(session, "jsonl", tmp_path / "v.jsonl")
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "v.jsonl").read_text(encoding="utf-8").splitlines())}
    assert rows[new.id]["previous_id"] == old.id and rows[old.id]["previous_id"] is None


def test_the_search_filters_narrow_an_export(db_url: str, cli, tmp_path: Path) -> None:  # noqa: ANN001
    from archive.storage.db import open_archive, sessions

    engine = open_archive(db_url)
    with sessions(engine)() as session:
        archive_html(session, "http://a.cn/1.html", html_page("在全县驻村工作会议上的讲话", PARAS))
        archive_html(session, "http://b.cn/2.html", html_page("讲话", PARAS[:3] + [
            PARAS[3][:20] + "……(未完,全文共1200字,当前仅显示300字)"]))
    engine.dispose()

    def titles(*args: str) -> list[str]:
        out = tmp_path / "f.jsonl"
        result = run_cli(cli, "--db", db_url, "export", "--format", "jsonl", "--out", str(out), *args)
        assert result.returncode == 0, result.stderr
        return sorted(json.loads(line)["title"] for line in out.read_text(encoding="utf-8").splitlines())

    assert titles("--truncated") == ["讲话"]
    assert titles("--complete") == ["在全县驻村工作会议上的讲话"]
    assert titles("--captured-from", "2000-01-01T00:00:00Z", "--complete") == ["在全县驻村工作会议上的讲话"]
    assert titles("--captured-to", "2000-01-01") == []
    assert titles("--not-reconstructed", "--canonical") == ["在全县驻村工作会议上的讲话"]
    assert titles("--region", "某省") == []


@pytest.mark.parametrize("args,message", [
    (["--since", "yesterday"], "not an ISO-8601 timestamp"),
    (["--captured-from", "last week"], "not an ISO-8601 timestamp"),
    (["--since", "2026-01-01", "--cursor", "c.json"], "give --since or --cursor, not both"),
])
def test_bad_incremental_options(cli, tmp_path: Path, args: list[str], message: str) -> None:  # noqa: ANN001
    result = run_cli(cli, "--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", "export", "--format", "jsonl",
                     "--out", str(tmp_path / "x.jsonl"), *args)
    assert result.returncode == 2 and message in result.stderr
    bad = tmp_path / "cursor.json"
    bad.write_text("not json", encoding="utf-8")
    result = run_cli(cli, "--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", "export", "--format", "jsonl",
                     "--out", str(tmp_path / "x.jsonl"), "--cursor", str(bad))
    assert result.returncode == 2 and "is not one this command wrote" in result.stderr


def test_warc_holds_each_capture_as_fetched_and_replays(db_url: str, cli, tmp_path: Path) -> None:  # noqa: ANN001
    """Request and response records per capture, read back and replayed with warcio (the library
    pywb and Browsertrix use); a filter narrows it like any export."""
    from warcio.archiveiterator import ArchiveIterator

    from archive.storage.db import open_archive, sessions
    from archive.storage.models import Capture
    from archive.storage.store import raw_body
    from tests.sites import GbkSite

    with GbkSite() as site:
        source = site.source_file(tmp_path)
        assert run_cli(cli, "--db", db_url, "crawl", str(source), timeout=300).returncode == 0
    out = tmp_path / "captures.warc.gz"
    result = run_cli(cli, "--db", db_url, "export", "--format", "warc", "--out", str(out))
    assert result.returncode == 0, result.stderr
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        stored = {c.final_url: (c, raw_body(c)) for c in session.scalars(select(Capture))}
    engine.dispose()
    responses, requests = {}, {}
    with out.open("rb") as fh:
        records = list(ArchiveIterator(fh, check_digests="raise"))
    with out.open("rb") as fh:  # replay: every response's payload as served, read record by record
        for record in ArchiveIterator(fh):
            uri = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response":
                responses[uri] = (record.http_headers, record.content_stream().read(),
                                  record.rec_headers.get_header("WARC-Date"), record.rec_headers.get_header("WARC-Record-ID"))
            elif record.rec_type == "request":
                requests[uri] = record.rec_headers.get_header("WARC-Concurrent-To")
    assert records[0].rec_type == "warcinfo" and records[0].rec_headers.protocol == "WARC/1.1"
    assert set(responses) == set(requests) == set(stored) and len(stored) == 12  # the speech pages (lists are not kept)
    for uri, (capture, body) in stored.items():
        headers, payload, date, record_id = responses[uri]
        assert payload == body and requests[uri] == record_id
        assert headers.get_statuscode() == "200" and headers.get_header("Content-Type") == "text/html"
        assert date.startswith(capture.fetched_at.strftime("%Y-%m-%dT%H:%M:%S"))
    speech_page = next(u for u in stored if "show.asp" in u)
    assert "讲话" in responses[speech_page][1].decode("gbk")
    manifest = json.loads((tmp_path / "captures.warc.gz.manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "warc" and manifest["rows"] == len(stored)
    narrowed = run_cli(cli, "--db", db_url, "export", "--format", "warc", "--out", str(out), "--query", "no such words here")
    assert narrowed.returncode == 0 and "wrote 0 captures" in narrowed.stdout
