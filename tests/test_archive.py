"""The archive on a real SQLite file and on PostgreSQL: storage, re-cleaning, groups, search, export."""

from __future__ import annotations

import ast
import csv
import json
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select, text
from sqlalchemy.orm import Session

from archive import ingest
from archive.dedup import grouping
from archive.export.write import FIELDS, export
from archive.fulltext.postgres import grams_of
from archive.query.search import Filters, QueryError, parse_query, search
from archive.storage import store
from archive.storage.db import MIGRATIONS, _sqlite_pragmas, head_revision, open_archive, sessions
from archive.storage.models import Blob, Capture, DupGroup, Shingle, Speech, search_text_of
from cleaners import SiteRules, clean_page
from cleaners.chars import fold, to_traditional
from crawler.encoding import decode_html
from tests.conftest import ROOT, pg_schema

SITE = Path(__file__).resolve().parent.parent / "demo" / "site"
RULES = SiteRules(body_selector="div.c")
PARAS = [
    "同志们:",
    "今天召开全县农村基层组织建设工作会议,主要任务是总结去年以来的驻村工作,安排部署下一阶段任务。",
    "一、思想再重视。当前关键是要克服三种思想情绪,一是克服急躁情绪,二是克服畏难情绪,三是克服侥幸情绪。",
    "二、任务再明确。县委实施方案明确安排了五项驻村工作任务,各驻村工作队都要不折不扣地完成好,突出抓好三个重点。",
    "三、要求再严格。严格工作纪律,驻村工作队员的工作与原单位工作必须完全脱钩,保证驻村队员安心工作。",
    "四、支持再有力。县直各单位要高度重视,给予大力支持,帮助驻村工作队解决生活、工作难题,做坚强后盾。",
    "同志们,让我们以更加昂扬的精神状态,切实把驻村工作抓出成效,为全县新农村建设做出应有的贡献!",
]


def html_page(title: str, paras: list[str], extra: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return f"<html><head><title>{title}</title></head><body><h1>{title}</h1><div class='c'>{body}{extra}</div></body></html>"


def archive_html(session: Session, url: str, html: str, site: str = "site-a") -> list[Speech]:
    source = store.ensure_source(session, "test", {})
    body = html.encode("utf-8")
    fetched = store.Fetched(url=url, final_url=url, canonical_url=url, status=200, headers={}, encoding="utf-8",
                            body=body, fetched_at=datetime.now(UTC))
    capture = store.save_capture(session, source, None, fetched)
    job = ingest.Ingest(session, workers=1)
    job.add(capture, ingest.Page(capture.id, [html], url, RULES, job.limits), site)
    job.close()
    return session.scalars(select(Speech).where(Speech.capture_id == capture.id)).all()


def reclean(session: Session, captures: list[Capture], site: str, workers: int = 1) -> list[ingest.Written]:
    """Clean stored captures again through the ingest path, as ``speech-archive reclean`` does."""
    written: list[ingest.Written] = []
    job = ingest.Ingest(session, workers=workers, on_written=written.append)
    ingest.add_stored(job, [c.id for c in captures], lambda _c: RULES, lambda _c: site)
    job.close()
    return written


def test_migrations_create_every_table(session: Session) -> None:
    names = set(inspect(session.get_bind()).get_table_names())
    assert {"sources", "crawl_runs", "captures", "blobs", "speeches", "dup_groups", "shingles", "alembic_version"} <= names


def test_raw_bodies_are_kept_once_and_read_back(session: Session) -> None:
    html = html_page("讲话", PARAS)
    archive_html(session, "http://a.cn/1.html", html)
    archive_html(session, "http://a.cn/1-copy.html", html)
    assert session.scalar(select(func.count()).select_from(Blob)) == 1
    speech = session.scalars(select(Speech)).first()
    assert store.raw_body(speech.capture).decode() == html


def test_speech_fields_are_stored(session: Session) -> None:
    html = html_page("在全县驻村工作会议上的讲话", ["刘 敏 坚", "(2007年1月16日)", *PARAS])
    [s] = archive_html(session, "http://a.cn/2.html", html)
    assert (s.title, s.speaker, s.speech_date, s.occasion) == ("在全县驻村工作会议上的讲话", "刘敏坚", "2007-01-16",
                                                             "全县驻村工作会议")
    assert s.paragraphs == PARAS and s.text == "\n".join(PARAS)
    assert s.script == "simplified" and not s.truncated and s.cleaner_version
    assert [h["text"][:2] for h in s.outline] == ["一、", "二、", "三、", "四、"]
    session.commit()
    assert "刘敏坚" not in s.text and [h.speech.id for h in search(session, "刘敏坚")] == [s.id]  # moved, still found


def _alembic(conn: Connection) -> Config:
    """Alembic's configuration of the archive's migrations, run on ``conn``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _downgrade(engine: Engine, revision: str) -> None:
    """The archive's schema taken back to ``revision`` by the migrations' own downgrades."""
    with engine.begin() as conn:
        command.downgrade(_alembic(conn), revision)


def test_an_archive_from_before_the_speaker_was_searched_is_refolded_on_upgrade(db_url: str) -> None:
    """Migration 0012 clears the search texts; opening the archive refolds them and the index."""
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        [s] = archive_html(session, "http://a.cn/2.html", html_page("在全县驻村工作会议上的讲话", ["刘敏坚", *PARAS]))
        session.commit()
    _downgrade(engine, "0011")
    with engine.begin() as conn:  # the archive as the release before left it
        conn.execute(text("UPDATE speeches SET search_text = :old"), {"old": fold(s.title + "\n" + s.text)})
    engine.dispose()
    engine = open_archive(db_url)
    with sessions(engine)() as session:
        assert [h.speech.id for h in search(session, "刘敏坚")] == [s.id]
        assert [h.speech.id for h in search(session, PARAS[0][2:8])] == [s.id]
    engine.dispose()


@pytest.mark.postgres
def test_the_gram_index_keeps_every_gram_through_its_change_to_numbers() -> None:
    """Migration 0019 turns PostgreSQL's grams from text into numbers in SQL, and back: each
    speech's grams are exactly what the index code makes of its text, and search finds it."""
    with pg_schema() as url:
        engine = open_archive(url)
        with sessions(engine)() as session:
            [s] = archive_html(session, "http://a.cn/3.html", html_page("在全县驻村工作会议上的讲话", ["刘敏坚𠮷", *PARAS]))
            session.commit()
        _downgrade(engine, "0018")
        with engine.connect() as conn:
            [old] = conn.execute(text("SELECT grams FROM speech_grams")).scalars()
        expected = set(s.search_text) | {a + b for a, b in zip(s.search_text, s.search_text[1:])}
        assert sorted(old) == sorted(expected)  # the text form 0018 had
        engine.dispose()
        engine = open_archive(url)
        with engine.connect() as conn:
            [new] = conn.execute(text("SELECT grams FROM speech_grams")).scalars()
        assert new == grams_of(s.search_text)
        with sessions(engine)() as session:
            for term in ("刘", "刘敏", "敏坚𠮷", "𠮷", PARAS[0][2:8]):
                assert [h.speech.id for h in search(session, term)] == [s.id], term
        engine.dispose()


def _grams(engine: Engine) -> dict[int, list[int]]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT speech_id, grams FROM speech_grams")).all())


@pytest.mark.postgres
def test_an_ingest_on_postgresql_indexes_its_speeches_after_each_commit_and_what_a_killed_one_left() -> None:
    """Off the writer's path, on a connection of their own: every committed speech ends up indexed,
    exactly, by the time the ingest closes; one a killed writer committed but never indexed (no
    row) is indexed by the next ingest."""
    with pg_schema() as url:
        engine = open_archive(url, writer=True)
        with sessions(engine)() as session:
            first = archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS))
            second = archive_html(session, "http://b.cn/2.html", html_page("在全县会议上的讲话", ["刘敏坚𠮷", *PARAS[2:]]))
            expected = {s.id: grams_of(s.search_text) for s in (*first, *second)}
            assert _grams(engine) == expected
            session.execute(text("DELETE FROM speech_grams WHERE speech_id = :id"), {"id": second[0].id})
            session.commit()
            assert [h.speech.id for h in search(session, "敏坚")] == []
            ingest.Ingest(session, workers=1).close()
            assert _grams(engine) == expected
            assert [h.speech.id for h in search(session, "敏坚")] == [second[0].id]
        engine.dispose()


@pytest.mark.postgres
def test_the_postgresql_indexer_leaves_no_grams_of_a_text_that_changed() -> None:
    """The indexer writes a speech's grams only while its text is the one they were made of, and a
    change waits for an insert of older grams in flight, then removes it."""
    from archive.fulltext import postgres

    with pg_schema() as url:
        engine = open_archive(url, writer=True)
        with sessions(engine)() as session:
            [s] = archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS))
            old = s.search_text
            session.execute(text("DELETE FROM speech_grams"))
            session.commit()
        indexer = postgres.INDEX.indexer(engine)  # indexes the speech: it has no row
        indexer.close()
        assert _grams(engine) == {s.id: grams_of(old)}
        indexer = postgres.INDEX.indexer(engine)
        indexer.stage([(s.id, old + "，不再是它的文字")])
        indexer.send_staged()
        indexer.close()
        assert _grams(engine) == {s.id: grams_of(old)}  # not the staged text's

        with engine.begin() as conn:
            conn.execute(text("DELETE FROM speech_grams"))
        in_flight = engine.raw_connection()  # an indexer's first insert of the old text, not committed yet
        in_flight.cursor().execute(postgres._ADD_COMMITTED, [[s.id], [old], [postgres.array_literal(grams_of(old))]])

        def change() -> None:
            with sessions(engine)() as writer:
                writer.get(Speech, s.id).search_text = "新的文字"
                writer.commit()

        changing = threading.Thread(target=change)
        changing.start()
        changing.join(1)
        assert changing.is_alive()  # waits for the insert in flight
        in_flight.commit()
        changing.join(10)
        assert not changing.is_alive()
        in_flight.close()
        assert _grams(engine) == {s.id: grams_of("新的文字")}
        engine.dispose()


def test_reclean_updates_speeches_in_place(session: Session) -> None:
    html = html_page("讲话", PARAS)
    [s] = archive_html(session, "http://a.cn/3.html", html)
    s.text = "stale text from an older cleaner"
    session.commit()
    [done] = reclean(session, [s.capture], "site-a")
    [again] = session.scalars(select(Speech)).all()
    assert again.id == s.id and again.text == "\n".join(PARAS) and done.outcome.changed == 1
    assert again.capture.cleaned_at is not None


def test_reclean_folds_a_speech_again_where_its_speaker_alone_changed(session: Session) -> None:
    """A stored speech's search text is folded again only where its title, text or speaker changed."""
    [s] = archive_html(session, "http://a.cn/4.html",
                       html_page("在全县驻村工作会议上的讲话", ["刘 敏 坚", "(2007年1月16日)", *PARAS]))
    s.speaker, s.search_text = None, search_text_of(s.title, s.text)  # as a cleaner that found no speaker left it
    session.commit()
    assert search(session, "刘敏坚") == []
    reclean(session, [s.capture], "site-a")
    session.commit()
    [again] = session.scalars(select(Speech)).all()
    assert again.speaker == "刘敏坚" and again.search_text == search_text_of(again.title, again.text, "刘敏坚")
    assert [h.speech.id for h in search(session, "刘敏坚")] == [s.id]


def test_copies_across_scripts_truncation_and_edits_form_one_group(session: Session) -> None:
    full = archive_html(session, "http://a.cn/full.html", html_page("讲话", PARAS), site="full")[0]
    trad = archive_html(session, "http://b.tw/t.html", to_traditional(html_page("講話", PARAS)), site="trad")[0]
    cut = archive_html(session, "http://c.cn/cut.html", html_page("讲话", PARAS[:3] + [
        PARAS[3][:20] + "……(未完,全文共1200字,当前仅显示300字)"]), site="cut")[0]
    edited = [p.replace("全县", "XX县").replace(",", ",") for p in PARAS[1:]]  # no salutation, placeholders, widths
    edit = archive_html(session, "http://d.cn/e.html", html_page("讲话", edited), site="edit")[0]
    groups = {s.id: s.group_id for s in session.scalars(select(Speech))}
    assert len({groups[x.id] for x in (full, trad, cut, edit)}) == 1
    group = session.get(DupGroup, groups[full.id])
    assert group.canonical_id == full.id and group.size == 4
    assert trad.script == "traditional" and cut.truncated


def test_a_better_copy_becomes_canonical_when_it_arrives(session: Session) -> None:
    cut = archive_html(session, "http://c.cn/cut.html", html_page("讲话", PARAS[:4] + ["……还剩3页未读,继续阅读"]))[0]
    assert session.get(DupGroup, cut.group_id).canonical_id == cut.id
    full = archive_html(session, "http://a.cn/full.html", html_page("讲话", PARAS))[0]
    assert full.group_id == cut.group_id
    assert session.get(DupGroup, cut.group_id).canonical_id == full.id


def _compilation_pieces() -> list[str]:
    html, _ = decode_html((SITE / "gaozi" / "huibian.html").read_bytes())
    return [s.text for s in clean_page([html]).speeches]


def test_different_reports_on_one_theme_stay_apart(session: Session) -> None:
    pieces = _compilation_pieces()
    assert len(pieces) >= 4
    for n, piece in enumerate(pieces):
        archive_html(session, f"http://g.cn/{n}.html", html_page(f"汇报{n}", piece.split("\n")))
    assert session.scalar(select(func.count()).select_from(DupGroup)) == len(pieces)


def test_rebuild_gives_the_same_groups(session: Session) -> None:
    for n, paras in enumerate([PARAS, PARAS[1:], [p + "。" for p in PARAS[:5]]]):
        archive_html(session, f"http://x.cn/{n}.html", html_page("讲话", paras))
    for n, piece in enumerate(_compilation_pieces()[:3]):
        archive_html(session, f"http://g.cn/{n}.html", html_page(f"汇报{n}", piece.split("\n")))

    def partition() -> set[frozenset[int]]:
        members: dict[int, set[int]] = {}
        for s in session.scalars(select(Speech)):
            members.setdefault(s.group_id, set()).add(s.id)
        return {frozenset(m) for m in members.values()}

    before = partition()
    grouping.rebuild(session)
    session.commit()
    assert partition() == before and len(before) == 4


@pytest.fixture
def searchable(session: Session) -> Session:
    archive_html(session, "http://a.cn/s.html", html_page("在全县驻村工作会议上的讲话", ["刘 敏 坚", "(2007年1月16日)", *PARAS]),
                 site="甲网")
    archive_html(session, "http://b.tw/t.html", to_traditional(html_page("農村基層組織建設動員會的講話", [
        "同志們:", "縣委決定召開創建農村基層組織建設先進縣動員大會,明確任務,落實責任,齊心協力抓好創建工作。",
        "黨的基層組織是黨的全部工作和戰鬥力的基礎,要選準配強村級領導班子,加強黨員隊伍建設。"])), site="乙网")
    archive_html(session, "http://c.cn/r.html", html_page("关于例会制度的汇报", [
        "近年来,××乡为加强对村两委主要干部的教育、管理和培养,采取了二推一选、创业承诺等措施。",
        "推行例会制度,最根本目的就是要提高村干部的能力和水平,把他们培养成为民办实事的基层干部。"]), site="丙网")
    return session


def titles(session: Session, q: str, **kw) -> set[str]:  # noqa: ANN003 - filter fields
    return {h.speech.title for h in search(session, q, Filters(**kw) if kw else None, limit=100)}


def test_search_finds_one_and_two_character_words_in_either_script(searchable: Session) -> None:
    assert titles(searchable, "驻村") == {"在全县驻村工作会议上的讲话"}
    assert titles(searchable, "县") >= {"在全县驻村工作会议上的讲话", "農村基層組織建設動員會的講話"}
    assert titles(searchable, "战斗") == {"農村基層組織建設動員會的講話"}          # simplified query, traditional copy
    assert titles(searchable, "幹部") == {"关于例会制度的汇报"}                    # traditional query, simplified copy


def test_search_phrases_and_operators(searchable: Session) -> None:
    assert titles(searchable, '"克服急躁情绪"') == {"在全县驻村工作会议上的讲话"}
    assert titles(searchable, '"急躁 情绪"') == set()
    assert titles(searchable, "例会 OR 驻村") == {"在全县驻村工作会议上的讲话", "关于例会制度的汇报"}
    assert titles(searchable, "工作 -例会") == {"在全县驻村工作会议上的讲话", "農村基層組織建設動員會的講話"}
    assert titles(searchable, "干部 NOT 驻村 NOT 战斗") == {"关于例会制度的汇报"}
    assert titles(searchable, "100%_") == set()  # LIKE wildcards are matched literally


def test_search_filters_and_snippets(searchable: Session) -> None:
    assert titles(searchable, "工作", site="乙网") == {"農村基層組織建設動員會的講話"}
    assert titles(searchable, "工作", speaker="刘敏坚") == {"在全县驻村工作会议上的讲话"}
    assert titles(searchable, "工作", date_from="2007-01-01", date_to="2007-12-31") == {"在全县驻村工作会议上的讲话"}
    [hit] = search(searchable, "急躁情绪")
    assert "克服【急躁情绪】,二是" in hit.snippet and hit.count == 1


@pytest.mark.parametrize("bad", ['"unclosed', "OR 驻村", "驻村 OR", "NOT", "  "])
def test_malformed_queries_say_why(bad: str) -> None:
    with pytest.raises(QueryError):
        parse_query(bad)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_formats_read_back(searchable: Session, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"speeches.{fmt}"
    assert export(searchable, fmt, out).rows == 3
    stored = {s.id: s for s in searchable.scalars(select(Speech))}
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    elif fmt == "csv":
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
        for r in rows:
            r["id"] = int(r["id"])
            r["paragraphs"] = json.loads(r["paragraphs"])
    else:
        rows = pq.read_table(out).to_pylist()
        assert pq.read_schema(out).names == list(FIELDS)
    assert {r["id"] for r in rows} == set(stored)
    for r in rows:
        assert r["text"] == stored[r["id"]].text and r["paragraphs"] == stored[r["id"]].paragraphs
    assert not list(tmp_path.glob(".*part"))


def test_canonical_only_export_and_bom(searchable: Session, tmp_path: Path) -> None:
    archive_html(searchable, "http://z.cn/dup.html", html_page("讲话", PARAS[:4] + ["……还剩3页未读,继续阅读"]))
    assert export(searchable, "jsonl", tmp_path / "all.jsonl").rows == 4
    assert export(searchable, "jsonl", tmp_path / "canon.jsonl", Filters(canonical_only=True)).rows == 3
    export(searchable, "csv", tmp_path / "bom.csv", bom=True)
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_failed_export_leaves_no_file_under_the_final_name(searchable: Session, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # stopped after the second of three rows
        export(searchable, "jsonl", out, progress=interrupt, progress_every=2)
    assert not out.exists() and not list(tmp_path.glob(".*part"))
    with pytest.raises(ValueError, match="unknown export format"):
        export(searchable, "xml", out)
    with pytest.raises(ValueError, match="does not exist"):
        export(searchable, "jsonl", tmp_path / "missing" / "x.jsonl")


def test_learned_layer_removes_a_sites_own_chrome_on_reclean(session: Session) -> None:
    from archive.learn import site_boilerplate
    from cleaners.learned import learn, line_keys

    chrome = "扫一扫,关注公众号获取更多讲话稿"
    speeches = []
    for n, piece in enumerate(_compilation_pieces()):  # different speeches of one site, all ending the same way
        paras = ["同志们:", *piece.split("\n"), "谢谢大家!", chrome]
        speeches += archive_html(session, f"http://s.cn/{n}.html", html_page(f"讲话{n}", paras), site="丁网")
    assert len({s.group_id for s in speeches}) >= 4
    other = archive_html(session, "http://o.cn/1.html", html_page("讲话", PARAS + [chrome]), site="戊网")[0]
    learned = site_boilerplate(session, "丁网")
    assert learned == {chrome} and site_boilerplate(session, "戊网") == frozenset()
    assert learn([(1, line_keys(["同志们:", chrome]))] * 6) == frozenset()  # one speech six times teaches nothing
    reclean(session, [s.capture for s in speeches], "丁网")  # removed chrome still counts: nothing is forgotten
    assert site_boilerplate(session, "丁网") == {chrome}
    for s in session.scalars(select(Speech).where(Speech.site == "丁网")):
        assert chrome not in s.text and s.text.startswith("同志们:") and s.text.endswith("谢谢大家!")
        assert {"reason": "learned.boilerplate", "text": chrome} in s.removals
    assert chrome in session.get(Speech, other.id).text


def test_learning_again_reads_only_changed_speeches_and_agrees_with_a_fresh_reading(session: Session) -> None:
    from archive.learn import Known, site_boilerplate

    chrome = "扫一扫,关注公众号获取更多讲话稿"
    speeches = [archive_html(session, f"http://s.cn/{n}.html", html_page(f"讲话{n}", ["同志们:", *piece.split("\n"), chrome]),
                             site="丁网")[0] for n, piece in enumerate(_compilation_pieces())]
    known: Known = {}
    assert site_boilerplate(session, "丁网", known=known) == {chrome}
    assert set(known) == {s.id for s in speeches}
    for s in speeches:  # the site's speeches change (as a reclean or consensus would change them)
        s.paragraphs = [p for p in s.paragraphs if p != chrome]
    session.flush()
    assert site_boilerplate(session, "丁网", known=known) == site_boilerplate(session, "丁网") == frozenset()
    session.delete(speeches[0])
    session.flush()
    site_boilerplate(session, "丁网", known=known)
    assert speeches[0].id not in known  # what is no longer among the site's speeches is forgotten


def test_group_members_show_real_differences_not_script(session: Session) -> None:
    from archive.dedup.groups import members

    full = archive_html(session, "http://a.cn/full.html", html_page("讲话", PARAS))[0]
    trad = archive_html(session, "http://b.tw/t.html", to_traditional(html_page("講話", PARAS)))[0]
    cut = archive_html(session, "http://c.cn/cut.html", html_page("讲话", PARAS[:4] + ["……还剩3页未读,继续阅读"]))[0]
    by_id = {m.speech.id: m for m in members(session, full.group_id)}
    assert by_id[full.id].canonical and by_id[full.id].diff == []
    assert by_id[trad.id].diff == []  # the same text in the other script: nothing differs
    removed = [line for line in by_id[cut.id].diff if line.startswith("-") and not line.startswith("---")]
    assert removed == ["-" + p for p in PARAS[4:]]


def test_the_head_read_from_the_migration_files_is_alembics(session: Session) -> None:
    """Opening an archive skips Alembic when the schema is at the head it reads itself: that head
    must be Alembic's own, and an archive that is behind is still brought up to it."""
    url = session.get_bind().url.render_as_string(hide_password=False)
    with session.get_bind().begin() as conn:  # back to 0010, by the later migrations' own downgrades
        cfg = _alembic(conn)
        assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()
        command.downgrade(cfg, "0010")
        assert "compilation" not in {c["name"] for c in inspect(conn).get_columns("speeches")}
    engine = open_archive(url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()
        assert "ix_captures_source_body" in {i["name"] for i in inspect(conn).get_indexes("captures")}
        assert "compilation" in {c["name"] for c in inspect(conn).get_columns("speeches")}
        assert "ix_speeches_facets" in {i["name"] for i in inspect(conn).get_indexes("speeches")}
    engine.dispose()


def test_processes_opening_a_new_sqlite_archive_together_all_find_it_migrated(tmp_path: Path) -> None:
    """A crawl's processes and a reader opening a new archive at the same moment: each waits for
    the first to migrate. A reader's migration began deferred and read the empty schema while
    another process migrated: it then failed to create a table that already existed."""
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    code = ("import sys, time; from archive.storage.db import open_archive; "
            "time.sleep(max(0, float(sys.argv[2]) - time.time())); "
            "open_archive(sys.argv[1], writer=sys.argv[3] == 'w').dispose()")
    start = time.time() + 4  # every process imported and waiting, then all open at once
    procs = [subprocess.Popen([sys.executable, "-c", code, url, str(start), kind], stderr=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parent.parent) for kind in "rrwrrw"]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), errors
    engine = open_archive(url, migrate=False)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head_revision()
    engine.dispose()


def _switch_to_wal(path: str, start: float) -> None:
    time.sleep(max(0.0, start - time.time()))
    conn = sqlite3.connect(path, isolation_level=None)
    _sqlite_pragmas(conn, None)
    conn.close()


def test_processes_switching_a_new_sqlite_file_to_wal_together_all_get_it(tmp_path: Path) -> None:
    """SQLite answers a connection that loses the race to switch a new file to WAL "database is
    locked" at once, not after the busy timeout (without a retry, 7 of 60 rounds of six processes
    had one): the processes of a crawl starting on a new archive all open it."""
    context = multiprocessing.get_context("fork")
    for n in range(40):
        start = time.time() + 0.1
        procs = [context.Process(target=_switch_to_wal, args=(str(tmp_path / f"{n}.sqlite3"), start)) for _ in range(6)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0] * 6, f"round {n}"


def _archive_at(url: str, revision: str) -> None:
    """An archive migrated only up to ``revision``, holding one speech with its group and postings,
    written as that schema has them."""
    engine = open_archive(url, migrate=False)
    t = "'2024-01-01 00:00:00'"
    with engine.begin() as conn:
        command.upgrade(_alembic(conn), revision)
        conn.exec_driver_sql(f"INSERT INTO sources VALUES (1, 's', '{{}}', {t})")
        conn.exec_driver_sql("INSERT INTO blobs VALUES ('b', 1, x'00')")
        conn.exec_driver_sql(f"INSERT INTO captures VALUES (1, 1, NULL, 'http://a/1', 'http://a/1', 'http://a/1', {t}, "
                             "200, '{}', 'utf-8', 'b', NULL, 0)")
        conn.exec_driver_sql(f"INSERT INTO dup_groups VALUES (1, 1, 1, {t}, NULL)")
        conn.exec_driver_sql(f"INSERT INTO speeches VALUES (1, 1, 1, 0, 'a', 'http://a/1', '标题', '{PARAS[0]}', "
                             f"'[\"{PARAS[0]}\"]', NULL, NULL, NULL, NULL, NULL, '[]', 0, NULL, '[]', 0, 0, 'simplified', "
                             f"'1', '[]', '{PARAS[0]}', 'h', 3, 1, {t}, {t}, {t})")
        conn.exec_driver_sql("INSERT INTO shingles VALUES (1, 11), (1, 22), (1, 33)")
    engine.dispose()


def test_migrating_an_old_sqlite_archive_keeps_its_duplicate_index(tmp_path: Path) -> None:
    """SQLite only: there Alembic rebuilds a table to change it, and with foreign keys on, dropping
    the old speeches table deleted every shingle (PostgreSQL alters tables in place)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _archive_at(url, "0005")
    engine = open_archive(url)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM shingles")) == 3
        assert conn.scalar(text("SELECT group_id FROM speeches")) == 1  # its group stands
        assert "WITHOUT ROWID" in conn.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'shingles'"))
        assert conn.scalar(text("SELECT count(*) FROM pragma_index_list('shingles') WHERE name = 'ix_shingles_hash'"))
        assert conn.scalar(text("SELECT count(*) FROM pragma_index_list('speeches') "
                                "WHERE name = 'ix_speeches_grouping'"))  # what grouping reads, read from it
        conn.execute(text("DELETE FROM speeches"))  # its postings go with it, as before
        assert conn.scalar(text("SELECT count(*) FROM shingles")) == 0
        assert conn.scalar(text("PRAGMA foreign_keys")) == 1  # back on for everything after
    engine.dispose()


def test_an_archive_that_lost_its_postings_is_indexed_and_grouped_again(session: Session) -> None:
    """What 0006 did to SQLite archives, repaired by 0015: every speech is regrouped, which writes
    its postings anew."""
    archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS))
    archive_html(session, "http://b.cn/1.html", html_page("讲话", PARAS[:-1]))
    session.commit()
    url = session.get_bind().url.render_as_string(hide_password=False)
    groups = session.scalar(select(func.count()).select_from(DupGroup))
    with session.get_bind().begin() as conn:  # as 0006 left such an archive, one revision back
        conn.execute(text("DELETE FROM shingles"))
        command.downgrade(_alembic(conn), "0014")
    engine = open_archive(url)
    with sessions(engine)() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Shingle)) > 0
        assert fresh.scalar(select(func.count()).select_from(DupGroup)) == groups == 1
        assert None not in fresh.scalars(select(Speech.group_id)).all()
    engine.dispose()


def test_a_writer_has_postgresql_analyze_the_tables_it_grew(session: Session) -> None:
    """A new archive fills faster than autovacuum analyzes it; without statistics PostgreSQL scans
    every posting for each speech. SQLite's plans are written for no statistics: nothing there."""
    from archive.storage.db import refresh_statistics

    speech = archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS))[0]
    session.execute(Shingle.__table__.insert(), [{"speech_id": speech.id, "hash": h} for h in range(5000, 7000)])
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        assert refresh_statistics(session) == []
        return
    _until_counted(session, 2000)
    assert "shingles" in refresh_statistics(session)
    assert _shingles_analyzed(session)
    assert "shingles" not in refresh_statistics(session)  # fresh now: not analyzed again


@pytest.mark.postgres
def test_an_ingest_has_the_tables_it_grew_analyzed_at_its_next_commit() -> None:
    """Not every tenth commit: a new archive's postings were scanned whole for its first ~600 pages
    (a 1,000-page crawl's lookups took 4.5 ms a speech on average, 1.3 once looked at each commit)."""
    with pg_schema() as url:
        engine = open_archive(url, writer=True)
        with sessions(engine)() as session:
            speech = archive_html(session, "http://a.cn/1.html", html_page("讲话", PARAS))[0]  # one commit
            job = ingest.Ingest(session, workers=1)
            job.commit()
            session.execute(Shingle.__table__.insert(), [{"speech_id": speech.id, "hash": h} for h in range(9000)])
            session.commit()
            _until_counted(session, 9000)
            assert not _shingles_analyzed(session)
            job.commit()
            assert _shingles_analyzed(session)
            job.close()
        engine.dispose()


def _until_counted(session: Session, writes: int) -> None:
    """Wait until PostgreSQL has counted ``writes`` changes to the postings since their last analysis."""
    deadline = time.monotonic() + 10  # the server counts a backend's writes when it goes idle
    while not session.scalar(text("SELECT n_mod_since_analyze >= :n FROM pg_stat_user_tables "
                                  "WHERE schemaname = current_schema() AND relname = 'shingles'"), {"n": writes}):
        assert time.monotonic() < deadline, "PostgreSQL never counted the writes"
        session.commit()
        time.sleep(0.2)


def _shingles_analyzed(session: Session) -> bool:
    return session.scalar(text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables "
                               "WHERE schemaname = current_schema() AND relname = 'shingles'"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return ({a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
            | {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module})


def test_migrations_run_no_live_code_and_only_the_index_modules_know_its_tables() -> None:
    """A migration runs against every older schema: code written for today's models breaks it as
    soon as a column is added. And the index's tables are the index modules' business alone."""
    migrations = sorted((ROOT / "archive" / "storage" / "migrations" / "versions").glob("*.py"))
    assert len(migrations) >= 15
    for path in migrations:
        assert _imports(path) <= {"__future__", "alembic", "sqlalchemy"}, path.name
    knowing = sorted(str(p.relative_to(ROOT)) for folder in ("archive", "web", "crawler", "cleaners")
                     for p in (ROOT / folder).rglob("*.py") if "speech_grams" in p.read_text(encoding="utf-8")
                     and "migrations" not in p.parts)
    assert knowing == ["archive/fulltext/postgres.py", "archive/fulltext/sqlite.py"]
