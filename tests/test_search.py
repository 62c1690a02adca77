"""The full-text index against a plain scan, on both backends, and the backends against each other.

The archive holds the labelled dedup set (both scripts, truncations, edits of 15 speeches), stored
ungrouped: search reads no group, and grouping it took most of this module's time. Every query's
result must be exactly the speeches whose folded text contains its terms — the scan.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive import fulltext
from archive.query.search import (Filters, QueryError, build_search, facets, parse_query, results, search, walks_dates,
                                  window_route)
from archive.storage.db import open_archive, sessions
from archive.storage.models import Speech, search_text_of
from cleaners.chars import fold, to_simplified
from tests.conftest import pg_schema
from tests.dedup.labelled import labelled_set
from tests.test_dedup_gate import put_speech

FIXED = ["县", "的", "驻村", "干部", "幹部", "基层组织", "基層組織建設", '"克服急躁情绪"', "例会 OR 驻村", "工作 -例会",
         "干部 NOT 驻村", "党 建", "2007", "x", "□", "%", "_", "。", "不存在的词语"]


def queries(texts: list[str], n: int = 40, seed: int = 3) -> list[str]:
    """The fixed queries plus 1-, 2- and 4-character substrings drawn from the texts themselves."""
    rng = random.Random(seed)
    drawn = []
    for _ in range(n):
        t = rng.choice(texts)
        size = rng.choice([1, 2, 4])
        start = rng.randrange(max(1, len(t) - size))
        piece = t[start:start + size]
        if piece.strip() and not set(piece) & set('"“”') and not piece.startswith("-") and piece.upper() not in ("OR", "NOT"):
            drawn.append(piece.replace(" ", ""))
    return FIXED + [q for q in drawn if q]


def scan(session: Session, q: str) -> set[int]:
    """The reference: a substring test over every speech's folded text."""
    query = parse_query(q)
    out = set()
    for sid, folded in session.execute(select(Speech.id, Speech.search_text)):
        if all(any(t in folded for t in group) for group in query.groups) and not any(t in folded for t in query.excluded):
            out.add(sid)
    return out


def found(session: Session, q: str, order: str = "relevance") -> list[int]:
    return [s.id for s in results(session, parse_query(q), limit=10_000, order=order)]


def fill(session: Session) -> list[str]:
    docs = labelled_set()
    for n, d in enumerate(docs):
        put_speech(session, n, d.text, d.truncated)
    session.commit()
    return [d.text for d in docs]


def test_index_finds_exactly_what_a_scan_finds(session: Session) -> None:
    texts = fill(session)
    checked = 0
    index = fulltext.index_for(session.get_bind().dialect.name)
    for q in queries(texts):
        assert set(found(session, q)) == scan(session, q), q
        query = parse_query(q)
        assert set(session.scalars(index.candidates(query.groups))) >= scan(session, q), q
        checked += 1
    assert checked >= 50


def test_index_asked_for_newer_speeches_gives_its_candidates_above_that_id(session: Session) -> None:
    """PostgreSQL tells them by thousands of ids in the index and by the id itself: both edges hold."""
    ids = [50, 998, 999, 1000, 1001, 1999, 2000, 2001, 3500, 7000]
    stored = [put_speech(session, n, doc.text, False) for n, doc in enumerate(labelled_set()[:len(ids)])]
    for sid, speech in zip(ids, stored, strict=True):  # a copy of each under the chosen id
        session.add(Speech(id=sid, index_in_page=1, **{c: getattr(speech, c) for c in (
            "capture_id", "source_id", "site", "url", "title", "text", "paragraphs", "script", "cleaner_version",
            "search_text", "text_hash", "captured_at")}))
    session.commit()
    index = fulltext.index_for(session.get_bind().dialect.name)
    for q in ("的", "县", "驻村", "干部 OR 例会", "基层组织", "党 建"):
        groups = parse_query(q).groups
        every = set(session.scalars(index.candidates(groups)))
        assert every & set(ids), q
        for newer_than in (0, 998, 999, 1000, 1500, 1999, 2000, 6999, 7000):
            assert set(session.scalars(index.candidates(groups, newer_than))) == {i for i in every if i > newer_than}, \
                (q, newer_than)


def test_index_holds_the_characters_its_own_formats_give_meaning_to(session: Session) -> None:
    """Quotes, backslashes, braces, commas, spaces and words such as NULL are text like any other:
    each of their one- and two-character grams finds the speech (PostgreSQL takes each speech's
    grams as an array literal, SQLite as a line of codes)."""
    speech = put_speech(session, 0, 'a "quoted" \\ back\\slash {braced}, NULL null\t\u3000 的"\\', False)
    session.commit()
    index = fulltext.index_for(session.get_bind().dialect.name)
    folded = speech.search_text
    grams = set(folded) | {folded[i:i + 2] for i in range(len(folded) - 1)}
    assert {'"', "\\", "{", ",", " ", '"\\'} <= grams
    for gram in grams:
        assert speech.id in set(session.scalars(index.candidates([[gram]]))), repr(gram)


def test_index_follows_edits_and_deletions(session: Session) -> None:
    fill(session)
    speech = session.scalars(select(Speech).order_by(Speech.id)).first()
    assert speech.id in found(session, "驻村") or speech.id not in scan(session, "驻村")
    speech.text = "全新的文字:鹦鹉螺号潜艇。"
    speech.search_text = fold(speech.title + "\n" + speech.text)
    session.commit()
    assert found(session, "鹦鹉螺") == [speech.id]
    assert speech.id not in found(session, "的讲")
    session.delete(speech)
    session.commit()
    assert found(session, "鹦鹉螺") == []
    for q in ("县", "驻村", "基层组织"):
        assert set(found(session, q)) == scan(session, q)


def test_index_writes_wait_for_the_commit_and_go_back_with_a_savepoint(session: Session) -> None:
    """Speeches are indexed together when their transaction commits: a read inside it still sees
    them, one rolled back to a savepoint leaves no entry, and one deleted or rewritten before the
    commit is indexed as it finally stands."""
    index = fulltext.index_for(session.get_bind().dialect.name)

    def indexed(term: str) -> set[int]:  # the index itself, read without settling what is pending
        return set(session.scalars(index.candidates([[fold(term)]])))

    kept = put_speech(session, 0, "鹦鹉螺号潜艇出航。", False)
    assert found(session, "鹦鹉螺") == [kept.id]  # a search inside the transaction indexes what it added first
    with session.begin_nested():
        gone = put_speech(session, 1, "鹦鹉螺号潜艇返航。", False)
        assert set(found(session, "鹦鹉螺")) == {kept.id, gone.id}
        session.begin_nested().rollback()  # an inner savepoint given up leaves the outer one's additions
        assert set(found(session, "鹦鹉螺")) == {kept.id, gone.id}
        with session.begin_nested() as inner:
            put_speech(session, 2, "鹦鹉螺号第三次出航。", False)
            inner.rollback()
    assert found(session, "返航") == [gone.id]
    waiting = put_speech(session, 6, "潜艇补给。", False)
    with session.begin_nested() as outer:  # settled inside, then taken back: pending again, as before
        refused = put_speech(session, 3, "鹦鹉螺号被拒收。", False)
        assert found(session, "拒收") == [refused.id]
        outer.rollback()
    rewritten = put_speech(session, 4, "海底两万里。", False)
    deleted = put_speech(session, 5, "海底火山喷发。", False)
    assert indexed("海底") == set()  # not written yet: both are pending
    rewritten.text = "海洋深处的鹦鹉螺号。"
    rewritten.search_text = search_text_of(rewritten.title, rewritten.text)
    session.delete(deleted)
    session.commit()
    assert indexed("鹦鹉螺") == {kept.id, gone.id, rewritten.id}
    assert indexed("补给") == {waiting.id}
    assert indexed("海底") == indexed("火山") == indexed("拒收") == set()
    for q in ("鹦鹉螺", "海洋", "出航", "号"):
        assert set(found(session, q)) == scan(session, q), q


def test_rebuilt_index_answers_the_same(session: Session) -> None:
    texts = fill(session)
    before = {q: set(found(session, q)) for q in queries(texts, 10)}
    fulltext.index_for(session.get_bind().dialect.name).clear(session.connection())
    assert found(session, "县") == []
    assert fulltext.rebuild(session.connection()) == len(texts)
    assert {q: set(found(session, q)) for q in before} == before


def test_facets_count_every_match(session: Session) -> None:
    fill(session)
    for q in ("县", "基层组织", "工作 -例会", "驻村 OR 例会"):  # on PostgreSQL, longer terms are tested on the text
        result = facets(session, parse_query(q))
        assert result.total == len(scan(session, q)) == sum(n for _, n in result.site) > 0, q
    assert facets(session, parse_query("县"), Filters(site="site1")).total == len(
        [s for s in search(session, "县", Filters(site="site1"), limit=1000)])


def test_facets_of_a_very_common_query_are_estimated_from_a_sample_and_say_so(session: Session,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    fill(session)
    matches = scan(session, "的")
    assert facets(session, parse_query("的")).sampled == 1  # below the threshold: exact
    monkeypatch.setattr("archive.query.search.FACETS_EXACT", 10)
    monkeypatch.setattr("archive.query.search.FACETS_SAMPLE", 4)
    result = facets(session, parse_query("的"))
    step = len(matches) // 4
    assert result.sampled == step > 1 and result.total == len(matches)  # the total stays exact
    sites = Counter(session.get(Speech, i).site for i in matches if i % step == 0)
    assert result.site == sorted(((k, n * step) for k, n in sites.items()), key=lambda kv: (-kv[1], kv[0]))[:15]
    assert facets(session, parse_query("的"), Filters(site="site1")).sampled == 1  # filtered: counted exactly


def test_facets_test_a_sample_of_many_candidates_on_their_text_and_say_the_total_is_estimated(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL tells a longer term's matches from its candidates by reading each text: past
    ``TESTED_EXACT`` candidates only every n-th is read, and the total says it is an estimate.
    FTS5 phrases are the matches themselves: SQLite counts exactly."""
    fill(session)
    index = fulltext.index_for(session.get_bind().dialect.name)
    q = "基层组织"
    matches = scan(session, q)
    candidates = set(session.scalars(index.candidates(parse_query(q).groups)))
    monkeypatch.setattr("archive.query.search.TESTED_EXACT", 5)
    monkeypatch.setattr("archive.query.search.TESTED_SAMPLE", 3)
    monkeypatch.setattr("archive.query.search.MIN_SAMPLED", 1)
    result = facets(session, parse_query(q))
    if not index.rechecks(parse_query(q).groups, []):
        assert (result.total, result.sampled, result.total_estimated) == (len(matches), 1, False)
        return
    step = len(candidates) // 3
    sample = [i for i in matches if i % step == 0]
    assert result.total_estimated and result.sampled == step > 1 and result.total == len(sample) * step
    sites = Counter(session.get(Speech, i).site for i in sample)
    assert result.site == sorted(((k, n * step) for k, n in sites.items()), key=lambda kv: (-kv[1], kv[0]))[:15]
    monkeypatch.setattr("archive.query.search.MIN_SAMPLED", len(sample) + 1)  # too few to estimate from
    exact = facets(session, parse_query(q))
    assert (exact.total, exact.sampled, exact.total_estimated) == (len(matches), 1, False)


def test_malformed_order_is_a_query_error(session: Session) -> None:
    with pytest.raises(QueryError, match="unknown order"):
        search(session, "县", order="sideways")


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Session, Session]]:
    with pg_schema() as pg_url:
        engines = [open_archive(u) for u in (f"sqlite:///{tmp_path}/a.sqlite3", pg_url)]
        made = [sessions(e)() for e in engines]
        yield made[0], made[1]
        for s, e in zip(made, engines, strict=True):
            s.close()
            e.dispose()


@pytest.mark.postgres
def test_sqlite_and_postgresql_give_the_same_results(both: tuple[Session, Session]) -> None:
    lite, pg = both
    texts = fill(lite)
    fill(pg)
    for q in queries(texts):
        assert set(found(lite, q)) == set(found(pg, q)), q
        assert found(lite, q, order="date") == found(pg, q, order="date"), q
        assert facets(lite, parse_query(q)) == facets(pg, parse_query(q)), q


def test_relevance_ranks_the_newest_window_of_a_common_query(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(session)
    everything = scan(session, "的")
    assert len(everything) > 10
    ranked_all = found(session, "的")
    assert set(ranked_all) == everything  # the window (default 2000) holds every match: exact ranking
    monkeypatch.setenv("SPEECH_ARCHIVE_SEARCH_RANK_WINDOW", "5")
    newest = sorted(everything)[-5:]
    windowed = found(session, "的")
    assert sorted(windowed) == newest
    assert windowed == [i for i in ranked_all if i in newest]  # same order as the exact ranking
    assert len(found(session, "的", order="date")) == len(everything)  # date order pages through all
    site = Filters(site="site1")
    in_site = sorted(h.speech.id for h in search(session, "的", site, limit=1000, order="date"))
    assert sorted(h.speech.id for h in search(session, "的", site, limit=1000)) == in_site[-5:]  # window after filters


def test_date_order_walked_down_the_date_index_equals_every_match_sorted(session: Session,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    texts = fill(session)
    dialect = session.get_bind().dialect.name

    def page(q: str, walk: bool, filters: Filters | None = None, offset: int = 0) -> list[int]:
        stmt = build_search(parse_query(q), dialect, filters, "date", limit=7, offset=offset, walk=walk)
        return [s.id for s in session.scalars(stmt)]

    for q in queries(texts):
        for filters in (None, Filters(site="site1")):
            for offset in (0, 7):
                assert page(q, True, filters, offset) == page(q, False, filters, offset), (q, filters, offset)
    common, rare = parse_query("的"), parse_query("急躁情绪")
    assert walks_dates(session, common) and walks_dates(session, rare)  # a small archive: walking is cheap
    monkeypatch.setattr("archive.query.search.WALK_ROWS", 80)  # a page must now lie in half the archive's newest rows
    assert len(scan(session, "的")) > len(texts) // 2 > len(scan(session, "急躁情绪"))
    assert walks_dates(session, common) and not walks_dates(session, rare)
    assert not walks_dates(session, common, offset=len(texts))  # deep pages sort instead


def test_the_relevance_window_found_by_walking_is_the_index_window(session: Session,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    texts = fill(session)
    dialect = session.get_bind().dialect.name
    monkeypatch.setenv("SPEECH_ARCHIVE_SEARCH_RANK_WINDOW", "9")  # a window smaller than most queries' matches

    def page(q: str, walk: bool, filters: Filters | None = None, offset: int = 0, newer_than: int | None = None) -> list[int]:
        stmt = build_search(parse_query(q), dialect, filters, limit=5, offset=offset, walk=walk, newer_than=newer_than)
        return [s.id for s in session.scalars(stmt)]

    newest = max(session.scalars(select(Speech.id)))
    for q in queries(texts):
        for filters in (None, Filters(site="site1")):
            for offset in (0, 5):
                assert page(q, True, filters, offset) == page(q, False, filters, offset), (q, filters, offset)
        # asking the index first for the newest matches: enough of them, or too few and then all
        for newer_than in (0, newest - 40, newest - 12, newest - 1, newest):
            assert page(q, False, newer_than=newer_than) == page(q, False), (q, newer_than)
    # the walk is taken where most of the newest speeches hold the query, and only where the
    # engine ranks on the text (SQLite's index ranks with bm25, so it never walks)
    assert len(scan(session, "的")) == len(texts) > 2 * len(scan(session, "急躁情绪"))  # the archive is newer than 200
    assert window_route(session, parse_query("的")) == (dialect == "postgresql", None)
    assert window_route(session, parse_query("急躁情绪")) == (False, None)  # its candidates need a text test
    # where the index gives the newest matches alone, it is asked first unless nearly all hold the query
    monkeypatch.setattr("archive.query.search.DENSE_NARROWED", 1.01)
    held = len(scan(session, "县"))
    reach = 9 * len(texts) * 2 // held  # two windows back, at the share of the newest that hold it
    assert 0 < reach < newest
    assert window_route(session, parse_query("县")) == (False, newest - reach if dialect == "postgresql" else None)
    monkeypatch.setattr("archive.query.search.DENSE", 1.01)  # elsewhere, never walk
    assert window_route(session, parse_query("县"), Filters(site="site1")) == (False, None)  # filtered: the index alone can't tell
    monkeypatch.setattr("archive.query.search.DENSE", 0.0)  # elsewhere, always walk
    assert window_route(session, parse_query("县"), Filters(site="site1")) == (dialect == "postgresql", None)
    assert window_route(session, parse_query("县"))[0] is False


def test_a_common_query_absent_from_the_newest_speeches_is_still_found_in_date_order(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    old = [put_speech(session, n, f"第{n}号文件:关于春耕备耕的通知,请各单位认真贯彻执行。" * 4, False) for n in range(40)]
    texts = fill(session)  # every one of them newer than the forty
    monkeypatch.setattr("archive.query.search.WALK_ROWS", len(texts) - 1)  # the bounded walk reaches none of the forty
    query = parse_query("春耕")
    assert walks_dates(session, query, limit=7)  # forty of the archive's speeches: common
    page = [s.id for s in results(session, query, order="date", limit=7)]
    assert page == sorted((s.id for s in old), reverse=True)[:7]


def test_relevance_puts_denser_texts_first(session: Session) -> None:
    put_speech(session, 0, "改革" * 3 + "。" + "其他内容" * 60, False)
    put_speech(session, 1, "改革。" + "其他内容" * 60, False)
    put_speech(session, 2, "改革" * 20 + "。" + "其他内容" * 60, False)
    session.commit()
    assert [h.speech.text.count("改革") for h in search(session, "改革")] == [20, 3, 1]


def in_field(speech: Speech, name: str, value: str) -> bool:
    """The reference for a field term: the value in the field, in either script."""
    stored = to_simplified(getattr(speech, name) or "")
    return to_simplified(value) in stored


FIELD_QUERIES = ["speaker:刘敏坚", "speaker:劉敏堅", "title:doc 1", "site:site3", "title:doc 驻村",
                 "site:site2 驻村 OR 基层", "title:doc -驻村", "occasion:座谈会", "Speaker:刘 occasion:老干部"]


def test_field_terms_narrow_to_the_field_in_either_script(session: Session) -> None:
    fill(session)
    for n, s in enumerate(session.scalars(select(Speech).order_by(Speech.id).limit(40))):
        s.speaker = "刘敏坚" if n % 5 == 0 else "王某某"
        s.occasion = "老干部座谈会" if n % 4 == 0 else None
    session.commit()
    speeches = list(session.scalars(select(Speech)))
    for q in FIELD_QUERIES:
        query = parse_query(q)
        words = scan(session, q) if query.groups else {s.id for s in speeches}
        expected = {s.id for s in speeches if s.id in words and all(in_field(s, f, v) for f, v in query.fields)}
        assert expected, q  # the case is not empty
        assert set(found(session, q)) == set(found(session, q, order="date")) == expected, q
        assert facets(session, query).total == len(expected), q


@pytest.mark.parametrize("q,message", [("-speaker:刘", "can only narrow"), ("驻村 OR title:讲话", "can only narrow")])
def test_field_terms_only_narrow(q: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(q)


def test_a_hit_in_the_title_ranks_first(session: Session) -> None:
    """Relevance: the speech whose title holds the word before texts denser in it."""
    for n, (title, body) in enumerate([("在全县工作会议上的讲话", "改革" * 20 + "。" + "其他内容" * 60),
                                       ("深化改革推进会上的讲话", "改革。" + "其他内容" * 60),
                                       ("座谈会发言", "改革" * 3 + "。" + "其他内容" * 60)]):
        speech = put_speech(session, n, body, False)
        speech.title, speech.search_text = title, search_text_of(title, body)
    session.commit()
    assert [h.speech.title for h in search(session, "改革")] == ["深化改革推进会上的讲话", "在全县工作会议上的讲话",
                                                                  "座谈会发言"]


TEMPLATE = "{p}镇人民政府关于{y}年春耕备耕工作的通知:请各村认真贯彻执行,{p}镇将于{y}年底检查。"
BLANKS = [("XX", "20XX"), ("××", "20××"), ("**", "20**"), ("＊＊", "20＊＊"), ("○○", "20--"), ("青山", "2023")]


@pytest.mark.parametrize("on", [True, False], ids=["placeholders alike", "placeholders as written"])
def test_template_texts_match_whatever_their_placeholder(session: Session, monkeypatch: pytest.MonkeyPatch,
                                                          on: bool) -> None:
    """With search_placeholders on, every spelling of a blank finds every template copy; off (and
    reindexed), each finds only its own spelling. Both agree with the scan."""
    monkeypatch.setenv("SPEECH_ARCHIVE_SEARCH_PLACEHOLDERS", "1" if on else "0")
    ids = [put_speech(session, n, TEMPLATE.format(p=p, y=y), False).id for n, (p, y) in enumerate(BLANKS)]
    session.commit()
    assert fulltext.refold(session.connection()) == len(BLANKS)
    session.commit()
    templates, written = set(ids[:5]), {"XX镇": {ids[0]}, "××镇": {ids[1]}, "**镇": {ids[2], ids[3]},
                                        "○○镇": {ids[4]}, "20--年": {ids[4]}, "20xx年": {ids[0]}}
    for q, own in written.items():
        assert set(found(session, q)) == scan(session, q) == (templates if on else own), q
        assert set(found(session, q, order="date")) == (templates if on else own), q
    assert found(session, "青山镇") == [ids[5]] and set(found(session, "春耕")) == set(ids)
