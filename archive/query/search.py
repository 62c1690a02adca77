"""Search: substring semantics for Chinese, in either script, over the folded text of each speech.

A query is parsed into a ``Query``; ``build_search`` turns it into a SELECT without running it,
so both can be tested. Terms are folded like the stored text (simplified, half-width, lower case),
so a simplified query finds traditional copies and the reverse, and a one- or two-character word
finds every speech that contains it: matching goes through the n-gram index of
``archive.fulltext``, which is exact at every query length on both backends.

Relevance puts speeches whose title holds a term first, then scores over a window: the
``search_rank_window`` most recently archived matches
(after filters). A query with fewer matches is ranked exactly; a common one (a single character
can match most of the archive) is ranked among its newest matches, so that its first page costs the
same whether it matches a hundred speeches or a million. Date order, counts, facets and exports
always cover every match; a common query's page in date order is found by walking the date
index newest first, testing each speech, rather than by sorting every match.

Field terms (``speaker:刘敏坚``, ``title:讲话``, ``site:学习啦``, ``occasion:座谈会``) match within
that field, in either script, and narrow the words' matches; a query may be field terms alone.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Float, Select, String, and_, case, cast, false, func, literal, not_, or_, select, true, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

import settings
from archive import fulltext
from archive.fulltext.base import holds
from archive.storage.models import DupGroup, Speech, search_fold
from cleaners.chars import to_simplified, to_traditional


class QueryError(ValueError):
    """The query cannot be understood; the message says what to change."""


FIELDS = ("speaker", "title", "site", "occasion")
_FIELD_TERM = re.compile(rf"^({'|'.join(FIELDS)}):(.+)$", re.IGNORECASE)


@dataclass
class Query:
    groups: list[list[str]] = field(default_factory=list)  # AND of ORs: [[a], [b, c]] = a AND (b OR c)
    excluded: list[str] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)  # (field, value as typed), all must match

    @property
    def terms(self) -> list[str]:
        return [t for g in self.groups for t in g]


def parse_query(text: str) -> Query:
    """Words and "quoted phrases" are ANDed; OR joins neighbours; NOT or a leading - excludes."""
    try:
        tokens = shlex.split(text.replace("“", '"').replace("”", '"'), posix=True)
    except ValueError as exc:
        raise QueryError(f"unbalanced quotes in query {text!r}") from exc
    query = Query()
    pending_or = negate = False
    for tok in tokens:
        if tok.upper() == "OR":
            if not query.groups or pending_or:
                raise QueryError("OR needs a term on each side")
            pending_or = True
            continue
        if tok.upper() == "AND":
            continue
        if tok.upper() == "NOT":
            negate = True
            continue
        if tok.startswith("-") and len(tok) > 1:
            negate, tok = True, tok[1:]
        fielded = _FIELD_TERM.match(tok)
        if fielded:
            if negate or pending_or:
                raise QueryError(f"a field term ({tok}) can only narrow: no OR, NOT or - before it")
            query.fields.append((fielded.group(1).lower(), fielded.group(2).strip()))
            continue
        term = search_fold(tok).strip()
        if not term:
            continue
        if negate:
            query.excluded.append(term)
        elif pending_or:
            query.groups[-1].append(term)
        else:
            query.groups.append([term])
        pending_or = negate = False
    if pending_or or negate:
        raise QueryError("the query ends with an operator")
    if not query.groups and not query.fields:
        raise QueryError("the query has no words to search for")
    return query


def _in_fields(query: Query, speech: type[Speech] = Speech) -> list[ColumnElement[bool]]:
    """The field terms as conditions: each value found in its column, typed in either script."""
    return [or_(*[getattr(speech, name).contains(v, autoescape=True) for v in {value, to_simplified(value),
                                                                              to_traditional(value)}])
            for name, value in query.fields]


@dataclass
class Filters:
    site: str | None = None
    speaker: str | None = None
    region: str | None = None
    date_from: str | None = None  # speech date, ISO (a prefix such as 2007 works)
    date_to: str | None = None
    captured_from: datetime | None = None
    captured_to: datetime | None = None
    truncated: bool | None = None
    reconstructed: bool | None = None  # the speech's group carries a text assembled from partial copies
    canonical_only: bool = False
    changed_since: datetime | None = None  # added or changed after this moment (incremental exports)


def apply_filters(stmt: Select, filters: Filters) -> Select:
    if filters.site:
        stmt = stmt.where(Speech.site == filters.site)
    if filters.speaker:
        stmt = stmt.where(Speech.speaker == filters.speaker)
    if filters.region:
        stmt = stmt.where(Speech.region == filters.region)
    if filters.date_from:
        stmt = stmt.where(Speech.speech_date >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(Speech.speech_date <= filters.date_to + "\uffff")  # 2007 includes 2007-12-31
    if filters.captured_from:
        stmt = stmt.where(Speech.captured_at >= filters.captured_from)
    if filters.captured_to:
        stmt = stmt.where(Speech.captured_at <= filters.captured_to)
    if filters.truncated is not None:
        stmt = stmt.where(Speech.truncated == filters.truncated)
    if filters.reconstructed is not None:
        rebuilt = Speech.group_id.in_(select(DupGroup.id).where(DupGroup.reconstruction.is_not(None)))
        stmt = stmt.where(rebuilt if filters.reconstructed else not_(rebuilt))
    if filters.changed_since:
        stmt = stmt.where(Speech.updated_at > filters.changed_since)
    if filters.canonical_only:
        stmt = stmt.where(Speech.id.in_(select(DupGroup.canonical_id)))
    return stmt


ORDERS = ("relevance", "date")


def _matching(query: Query, dialect: str) -> fulltext.Matching:
    if not query.groups:  # field terms alone: no index to ask, nothing to rank by
        return fulltext.Matching(select(Speech).where(*_in_fields(query)), literal(0), Speech.id.desc())
    matched = fulltext.index_for(dialect).matching(query.groups, query.excluded)
    return fulltext.Matching(matched.stmt.where(*_in_fields(query)), matched.rank, matched.newest_first)


def matching_ids(query: Query, dialect: str) -> Select:
    """SELECT of the ids of every speech matching ``query``, unordered (exports, counts)."""
    return _matching(query, dialect).stmt.with_only_columns(Speech.id)


def index_ids(query: Query, dialect: str) -> Select:
    """The same ids read from the index alone where it can give them — for ``IN (…)`` only: a
    filter on speeches belongs to the outer query."""
    if query.groups and not query.fields:
        return fulltext.index_for(dialect).ids(query.groups, query.excluded)
    return matching_ids(query, dialect)


def rank_window() -> int:
    return int(settings.get("search_rank_window"))


WALK_ROWS = 5000  # speeches a walk down the date index may read (see walks_dates)
PROBE_ROWS, DENSE = 200, 0.5  # a query held by half the newest 200 speeches walks to its relevance window
DENSE_NARROWED = 0.7  # or by 70% of them, where the index can give its newest matches alone (window_route)
REACH = 2  # how far back, in windows at the newest speeches' share, the index is asked first (window_route)


def _by_date(speech: type[Speech] = Speech) -> tuple[ColumnElement, ColumnElement]:
    """Date order, newest first, undated last: the order of the date index (migration 0008)."""
    return speech.speech_date.desc().nulls_last(), speech.id.desc()


def _read_once(speech: type[Speech] = Speech) -> ColumnElement[str]:
    """The folded text as a column of its own, for a subquery kept apart by LIMIT or OFFSET:
    PostgreSQL fetches a long value from TOAST at every use (each test, the rank, the title);
    a copy made once per row is fetched once."""
    return (speech.search_text + "").label("t")


def _holds(query: Query, text: ColumnElement[str], speech: type[Speech] = Speech,
           words_held: bool = False) -> ColumnElement[bool]:
    """The query as plain substring tests on a folded text: what the index answers, row by row.
    ``words_held``: the rows are known to hold the words (exact candidates of the index), so only
    field terms and exclusions are tested — each test is a scan of the text."""
    words = [] if words_held else [or_(*[holds(text, t) for t in g]) for g in query.groups]
    wanted = and_(true(), *words, *_in_fields(query, speech))
    return and_(wanted, not_(or_(*[holds(text, t) for t in query.excluded]))) if query.excluded else wanted


_WALKED = (Speech.id, Speech.speech_date, *(getattr(Speech, f) for f in FIELDS))  # what a walk tests and sorts by


def _newest(filters: Filters, order: tuple[ColumnElement, ...], limit: int | None = None) -> Subquery:
    """The speeches passing ``filters`` in ``order`` (an index's): the columns a walk tests and
    sorts by, and the text read once (``t``); narrow, so a walk carries no speech's other fields."""
    newest = apply_filters(select(*_WALKED, _read_once()), filters).order_by(*order)
    return (newest.limit(limit) if limit else newest.offset(0)).subquery("newest")


def walks_dates(session: Session, query: Query, filters: Filters | None = None, limit: int = 20,
                offset: int = 0) -> bool:
    """Whether a page in date order is found faster by walking speeches newest first (the date
    index) and testing each, than by sorting every match. It is when matches are common enough
    that the walk should meet the page within half of ``WALK_ROWS`` speeches, while sorting would
    read every match (tens of thousands for one character); deeper pages need commoner queries.

    Where the engine walks by itself, unbounded (SQLite), the matches are counted, up to what the
    page needs (cheap in FTS5): a walk for a rare word would read every text. Elsewhere the walk is
    bounded and one that comes up short is not taken (``results``), so the newest ``PROBE_ROWS``
    speeches by date are sampled instead: counting a common character's matches read all its ids
    (65 ms at 100,000 speeches on PostgreSQL), the sample 200 texts (2 ms)."""
    filters = filters or Filters()
    dialect = fulltext.ready(session)
    if fulltext.index_for(dialect).walks_dates_itself:
        speeches = session.scalar(select(func.max(Speech.id))) or 0
        enough = (offset + limit) * speeches // (WALK_ROWS // 2)
        probe = apply_filters(matching_ids(query, dialect), filters).limit(enough + 1)
        return session.scalar(select(func.count()).select_from(probe.subquery())) > enough
    probe = _newest(filters, _by_date(), PROBE_ROWS)
    scanned, held = session.execute(select(func.count(), func.count().filter(_holds(query, probe.c.t, probe.c)))).one()
    return held * (WALK_ROWS // 2) > (offset + limit) * scanned


def window_route(session: Session, query: Query, filters: Filters | None = None) -> tuple[bool, int | None]:
    """How the relevance window (the newest ``rank_window()`` matches) is found, for an engine that
    ranks on the text: ``(walk, newer_than)``, from one look at the newest ``PROBE_ROWS`` speeches.

    Where the index's candidates are the matches (``_narrowable``), ask it first for those newer
    than ``newer_than``: ids back from the newest as far as ``REACH`` times the window at the share
    they showed (PostgreSQL, a character in 45,000 of 100,000 speeches: its page's statement 36 → 26
    ms, its ids read and sorted 15 → 5 ms under EXPLAIN ANALYZE). That reads the window's texts
    alone, which a walk (speeches newest first, each tested) beats only when at least
    ``DENSE_NARROWED`` of them hold the query: it reads ``rank_window() / share`` texts, and each
    text read in order costs less than each looked up (PostgreSQL, a character in 58% of the
    speeches: walked 41.9 ms, narrowed 30.4; in 99%: 26.3 and 33.8). Otherwise the index would
    read every match's id (~40 ms for 100,000), so the walk is taken from ``DENSE``."""
    dialect = fulltext.ready(session)
    if _matching(query, dialect).rank is not None:
        return False, None
    filters = filters or Filters()
    probe = _newest(filters, (Speech.id.desc(),), PROBE_ROWS)
    scanned, held, newest = session.execute(select(func.count(), func.count().filter(_holds(query, probe.c.t, probe.c)),
                                                   func.max(probe.c.id))).one()
    narrowable = bool(held) and _narrowable(query, filters, fulltext.index_for(dialect))
    if scanned and held >= (DENSE_NARROWED if narrowable else DENSE) * scanned:
        return True, None
    if not narrowable:
        return False, None
    reach = rank_window() * scanned * REACH // held
    return False, (newest - reach if newest > reach else None)


def _narrowable(query: Query, filters: Filters, index: fulltext.Index) -> bool:
    """Whether the index's newest candidates are the newest matches: no filter, field term or
    exclusion to pass, and no text test to tell matches from candidates."""
    return not (query.excluded or query.fields or filters != Filters() or index.rechecks(query.groups, []))


def _walk(query: Query, dialect: str, filters: Filters, limit: int, offset: int) -> Select:
    """The date-ordered page by walking the date index. SQLite's planner walks the index on its
    own; PostgreSQL's misjudges the substring test as rare and sorts a full scan instead, so there
    the walk is spelled out: the newest ``WALK_ROWS`` speeches, then the test (``results`` falls
    back to the index's plan when they hold less than the page)."""
    if fulltext.index_for(dialect).walks_dates_itself:
        stmt = apply_filters(select(Speech).where(_holds(query, Speech.search_text)), filters)
        return stmt.order_by(*_by_date()).limit(limit).offset(offset)
    walked = _newest(filters, _by_date(), WALK_ROWS)
    page = (select(walked.c.id).where(_holds(query, walked.c.t, walked.c)).order_by(*_by_date(walked.c))
            .limit(limit).offset(offset).subquery("page"))
    return select(Speech).join(page, page.c.id == Speech.id).order_by(*_by_date())


def _window(query: Query, dialect: str, filters: Filters, walk: bool, newer_than: int | None = None) -> Select:
    """The relevance window, for an engine that ranks on the text: the newest ``rank_window()``
    matches (id, speech date, text read once as ``t``, title length as ``tl``), found through the
    index or by a walk newest first; the same speeches either way. ``newer_than`` (see
    ``window_route``): the index's matches newer than it, if they fill the window, else all."""
    if walk:
        walked = _newest(filters, (Speech.id.desc(),))
        if len(query.groups) == 1 and not (query.fields or query.excluded):
            # one word, or words joined by OR: their coverage, which the rank needs, is also the test
            # (covered > 0): one scan of each walked text, not two (computed once, in a subquery kept
            # apart by OFFSET)
            scored = (select(*walked.c, _covered(query, walked.c.t).label("covered")).order_by(walked.c.id.desc())
                      .offset(0).subquery("scored"))
            return (select(scored.c.id, scored.c.speech_date, scored.c.t, func.length(scored.c.title).label("tl"),
                           scored.c.covered)
                    .where(scored.c.covered > 0).order_by(scored.c.id.desc()).limit(rank_window()))
        return (select(walked.c.id, walked.c.speech_date, walked.c.t, func.length(walked.c.title).label("tl"),
                       _covered(query, walked.c.t).label("covered"))
                .where(_holds(query, walked.c.t, walked.c)).order_by(walked.c.id.desc()).limit(rank_window()))
    # the index's candidates newest first, each read (a lateral subquery: one lookup per candidate,
    # however many the planner guesses) and tested on its text, until the window is full
    index = fulltext.index_for(dialect)
    candidates = index.candidates(query.groups).subquery("candidates")
    if newer_than is not None and _narrowable(query, filters, index):
        recent = index.candidates(query.groups, newer_than).cte("recent").prefix_with("MATERIALIZED")
        enough = select(func.count()).select_from(recent).scalar_subquery() >= rank_window()
        candidates = union_all(select(list(recent.c)[0].label("id")).where(enough),
                               select(list(candidates.c)[0].label("id")).where(not_(enough))).subquery("candidates")
    newest = select(candidates.c.id).order_by(candidates.c.id.desc()).subquery("newest_candidates")
    row = apply_filters(select(*_WALKED, _read_once()).where(Speech.id == newest.c.id), filters).offset(0).lateral("row")
    words_held = not index.rechecks(query.groups, [])  # the candidates hold the words: no text test for them
    return (select(row.c.id, row.c.speech_date, row.c.t, func.length(row.c.title).label("tl"),
                   _covered(query, row.c.t).label("covered"))
            .select_from(newest).join(row, true()).where(_holds(query, row.c.t, row.c, words_held))
            .order_by(newest.c.id.desc()).limit(rank_window()))


def build_search(query: Query, dialect: str, filters: Filters | None = None, order: str = "relevance",
                 limit: int = 20, offset: int = 0, walk: bool = False, newer_than: int | None = None) -> Select:
    """The page of results; in relevance order, the best of the newest ``rank_window()`` matches;
    in date order, from the index's matches or (``walk``) from a walk down the date index. In
    relevance order ``walk`` finds the window by walking newest first, where the engine ranks on
    the text, and ``newer_than`` asks the index first for the newest matches (``window_route``):
    the same page either way."""
    if order not in ORDERS:
        raise QueryError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
    filters = filters or Filters()
    matching = _matching(query, dialect)
    by_date = _by_date()
    if order == "date":
        if walk:
            return _walk(query, dialect, filters, limit, offset)
        return apply_filters(matching.stmt, filters).order_by(*by_date).limit(limit).offset(offset)
    if matching.rank is not None:  # the index ranks
        in_title = _in_title(query, Speech.search_text, func.length(Speech.title))
        ranked = (apply_filters(matching.stmt, filters)
                  .with_only_columns(Speech.id, Speech.speech_date, in_title.label("in_title"), matching.rank.label("rank"))
                  .order_by(matching.newest_first).limit(rank_window()).subquery("ranked"))
    else:
        window = _window(query, dialect, filters, walk, newer_than).subquery("window")
        ranked = select(window.c.id, window.c.speech_date, _in_title(query, window.c.t, window.c.tl).label("in_title"),
                        _coverage(window.c.covered, window.c.t).label("rank")).subquery("ranked")
    # the page is cut from the window's narrow rows; only its own speeches are read whole
    best = (ranked.c.in_title.desc(), ranked.c.rank, *_by_date(ranked.c))
    page = select(ranked).order_by(*best).limit(limit).offset(offset).subquery("page")
    return select(Speech).join(page, page.c.id == Speech.id).order_by(page.c.in_title.desc(), page.c.rank, *by_date)


def _in_title(query: Query, text: ColumnElement[str], title_length: ColumnElement[int]) -> ColumnElement[int]:
    """1 when a term is in the title (the folded text begins with it), 0 otherwise: title hits first."""
    title = func.substr(text, 1, title_length, type_=String)
    return case((or_(false(), *[title.contains(t, autoescape=True) for t in query.terms]), 1), else_=0)


def _covered(query: Query, text: ColumnElement[str]) -> ColumnElement[int]:
    """The bytes of ``text`` the query's terms cover (each occurrence once per term). Bytes, not
    characters: a byte length is stored, a character count means a scan."""
    return sum((func.octet_length(text) - func.octet_length(func.replace(text, t, "")) for t in query.terms),
               start=literal(0))


def _coverage(covered: ColumnElement[int], text: ColumnElement[str]) -> ColumnElement[float]:
    """Relevance on the text: the share of its bytes the terms cover (``_covered``), most first
    (lower is better)."""
    return -cast(covered, Float) / cast(func.octet_length(text) + 1, Float)


HIT_START, HIT_END = "\ue000", "\ue001"  # marks no archived text holds (private use), unlike 【】


@dataclass
class Hit:
    speech: Speech
    marked: str  # the snippet, its hit between HIT_START and HIT_END
    count: int

    @property
    def snippet(self) -> str:
        """The snippet with its hit in 【】, for plain text (CLI, JSON)."""
        return self.marked.replace(HIT_START, "【").replace(HIT_END, "】")


@dataclass
class Facets:
    total: int  # exact unless ``total_estimated``
    site: list[tuple[str, int]]
    year: list[tuple[str, int]]
    speaker: list[tuple[str, int]]
    sampled: int = 1  # 1: exact counts; n: estimated from every n-th matching speech (by id), times n
    total_estimated: bool = False  # the total too is estimated from the sample


FACETS_EXACT, FACETS_SAMPLE = 20_000, 5_000  # more matches than this (unfiltered): counts from ~this many
TESTED_EXACT, TESTED_SAMPLE = 1_000, 500  # candidates tested on their text (PostgreSQL, longer terms), likewise
MIN_SAMPLED = 20  # matches a sample must hold for its estimate to stand; fewer, and every candidate is tested


def facets(session: Session, query: Query, filters: Filters | None = None, top: int = 15) -> Facets:
    """Counts of the matches by site, year and speaker, from one grouped query. Exact, unless an
    unfiltered query has more than ``FACETS_EXACT`` matches: then the counts are estimated from
    every n-th of them (``sampled``), the total still exact. At 100,000 speeches that took a
    one-character query's facets from 136 to 51 ms p95 on SQLite, from 619 to 122 on PostgreSQL.
    Where the index's candidates must each be tested on their text (PostgreSQL, terms of three
    characters or more) and there are more than ``TESTED_EXACT``, only a sample is tested and the
    total is estimated too (``total_estimated``), unless the sample holds too few matches to tell:
    a four-character word with 9,000 candidates took 150–280 ms to test them all, 45 to test 1,000."""
    dialect = fulltext.ready(session)
    index = fulltext.index_for(dialect)
    filters = filters or Filters()
    unfiltered = filters == Filters()
    matched = index_ids(query, dialect).subquery("matched")
    matched_id = list(matched.c)[0]
    bound = None  # how many candidates the index gives, an upper bound on the matches: cheap to count
    if unfiltered and query.groups and not query.fields:
        bound = session.scalar(select(func.count()).select_from(index.candidates(query.groups).subquery("candidates")))
    if bound is not None and bound > TESTED_EXACT and index.rechecks(query.groups, query.excluded):
        step = bound // TESTED_SAMPLE
        counted, ranked = _facet_counts(session, index, index.sample(query.groups, query.excluded, step), step,
                                        filters, top)
        if counted >= MIN_SAMPLED:
            return Facets(counted * step, *ranked, sampled=step, total_estimated=True)
    total, step = None, 1  # None: the sum of the counts, all exact
    if unfiltered and (bound is None or bound > FACETS_EXACT):
        exact = bound is not None and not query.excluded and not index.rechecks(query.groups, [])
        total = bound if exact else session.scalar(select(func.count()).select_from(matched))  # candidates are matches
        step = max(1, total // FACETS_SAMPLE) if total > FACETS_EXACT else 1
    ids = select(matched_id).where(matched_id % step == 0) if step > 1 else select(matched_id)
    counted, ranked = _facet_counts(session, index, ids, step, filters, top)
    return Facets(counted if total is None else total, *ranked, sampled=step)


def _facet_counts(session: Session, index: fulltext.Index, ids: Select, step: int, filters: Filters,
                  top: int) -> tuple[int, list[list[tuple[str, int]]]]:
    """The speeches ``ids`` gives, counted (times ``step``) by site, year and speaker: how many
    there are, and each facet's ``top`` values, ties by name so both backends agree."""
    year = func.substr(func.coalesce(Speech.speech_date, Speech.publish_date), 1, 4)
    stmt = apply_filters(index.narrow(select(Speech.site, year, Speech.speaker, func.count()), ids), filters)
    counts: dict[str, Counter] = {"site": Counter(), "year": Counter(), "speaker": Counter()}
    counted = 0
    for site, yr, speaker, n in session.execute(stmt.group_by(Speech.site, year, Speech.speaker)):
        counted += n
        counts["site"][site or "?"] += n * step
        counts["year"][yr or "?"] += n * step
        if speaker:
            counts["speaker"][speaker] += n * step
    return counted, [sorted(counts[k].items(), key=lambda kv: (-kv[1], kv[0]))[:top] for k in ("site", "year", "speaker")]


def snippet(speech: Speech, terms: list[str], width: int = 30) -> tuple[str, int]:
    """The first hit with ``width`` characters either side, between HIT_START and HIT_END; and the
    number of hits."""
    original = speech.title + "\n" + speech.text
    stored = speech.search_text[:len(original)]  # the speaker follows the text
    folded = stored if len(stored) == len(original) else search_fold(original)
    positions = [(m.start(), m.end()) for t in terms for m in re.finditer(re.escape(t), folded)]
    if not positions:
        return original[: 2 * width].replace("\n", " "), 0
    start, end = min(positions)
    left = original[max(0, start - width): start]
    right = original[end: end + width]
    text = (f"{'…' if start > width else ''}{left}{HIT_START}{original[start:end]}{HIT_END}{right}"
            f"{'…' if end + width < len(original) else ''}")
    return text.replace("\n", " "), len(positions)


def results(session: Session, query: Query, filters: Filters | None = None, order: str = "relevance",
            limit: int = 20, offset: int = 0) -> list[Speech]:
    """One page of the speeches matching ``query``, by the cheapest exact plan."""
    dialect = fulltext.ready(session)
    if order == "date" and walks_dates(session, query, filters, limit, offset):
        page = list(session.scalars(build_search(query, dialect, filters, order, limit, offset, walk=True)))
        if len(page) == limit or fulltext.index_for(dialect).walks_dates_itself:  # a bounded walk that came up short proves nothing
            return page
    walk, newer_than = window_route(session, query, filters) if order == "relevance" else (False, None)
    return list(session.scalars(build_search(query, dialect, filters, order, limit, offset, walk, newer_than)))


def search(session: Session, text: str, filters: Filters | None = None, limit: int = 20, offset: int = 0,
           order: str = "relevance") -> list[Hit]:
    query = parse_query(text)
    return [Hit(s, *snippet(s, query.terms)) for s in results(session, query, filters, order, limit, offset)]
