"""Trends: how much each term was used, period by period — when a phrase rose and when it fell.

A term is a query (words, "phrases", OR, NOT, field terms), answered by the full-text index, so it
finds what search finds in either script. A speech's period is its speech date: the search page
then lists exactly the speeches behind a point (its date filters read the same field); speeches
without one are counted apart (``undated``). Only canonical copies count unless the filters say
otherwise, so a speech reposted on ten sites is used once, not ten times.

What a point says (``per``):
  speeches   the share (%) of the period's speeches that use the term — from the index alone
  10k-chars  the term's occurrences per 10,000 characters of the period's speeches (reads the
             matching texts: slower on a common word)
  count      how many of the period's speeches use the term
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, cast, func, select
from sqlalchemy.orm import Session

from archive import fulltext
from archive.query.search import Filters, QueryError, apply_filters, index_ids, parse_query
from archive.storage.models import Speech

BY = {"year": 4, "month": 7}  # a period is this many leading characters of the ISO speech date
PER = ("speeches", "10k-chars", "count")
_PERIOD = {"year": re.compile(r"\d{4}"), "month": re.compile(r"\d{4}-\d{2}")}


@dataclass(frozen=True)
class Trend:
    terms: list[str]
    by: str
    per: str
    periods: list[str]  # every period from the first dated speech to the last, gaps included
    totals: list[int]  # speeches of each period (after the filters)
    matches: dict[str, list[int]]  # speeches of each period that use the term
    values: dict[str, list[float | None]]  # what is plotted; None where the period has no speech
    undated: int  # speeches left out for want of a speech date


def _periods(first: str, last: str, by: str) -> list[str]:
    """Every period from ``first`` to ``last``, so a chart's gaps are years, not missing points."""
    if by == "year":
        return [str(y) for y in range(int(first), int(last) + 1)]
    (y, m), (y2, m2) = map(int, first.split("-")), map(int, last.split("-"))
    out = []
    while (y, m) <= (y2, m2):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


def _occurrences(terms: list[str]) -> ColumnElement[int]:
    """Occurrences of ``terms`` in a speech's folded text, counted by SQL on either backend."""
    text = Speech.search_text
    return sum((cast((func.length(text) - func.length(func.replace(text, t, ""))) / len(t), Integer)
                for t in terms), start=cast(0, Integer))


def trend(session: Session, terms: list[str], by: str = "year", per: str = "speeches",
          filters: Filters | None = None) -> Trend:
    """Each term's use per period; ``filters`` default to canonical copies only."""
    if by not in BY:
        raise QueryError(f"unknown period {by!r}; choose one of {', '.join(BY)}")
    if per not in PER:
        raise QueryError(f"unknown measure {per!r}; choose one of {', '.join(PER)}")
    terms = [t.strip() for t in terms if t.strip()]
    if not terms:
        raise QueryError("a trend needs at least one term")
    queries = {t: parse_query(t) for t in terms}  # every term parsed before any is counted
    filters = filters or Filters(canonical_only=True)
    dialect = fulltext.ready(session)
    period = func.substr(Speech.speech_date, 1, BY[by]).label("period")
    shape = _PERIOD[by]
    # one pass over the speeches counts the period's speeches and each term's, whose ids the index
    # gives once (a hashed IN): a statement a term, each joining its ids to every speech's period,
    # took 250 ms for two common characters at 100,000 speeches on PostgreSQL
    columns = [period, func.count()]
    if per == "10k-chars":  # characters only when asked: summing every text's length reads every text
        columns.append(func.sum(func.length(Speech.search_text)))
    for query in queries.values():
        using = Speech.id.in_(index_ids(query, dialect))
        columns.append(func.count().filter(using))
        if per == "10k-chars":
            columns.append(func.sum(_occurrences(query.terms)).filter(using))
    width = 2 if per == "10k-chars" else 1  # numbers per period: speeches (and characters)
    found: dict[str, tuple] = {}
    undated = 0  # the dated by period, and the rest
    for p, *numbers in session.execute(apply_filters(select(*columns), filters).group_by(period)):
        if p is None or len(p) < BY[by]:
            undated += numbers[0]
        elif shape.fullmatch(p):
            found[p] = tuple(n or 0 for n in numbers)
    periods = _periods(min(found), max(found), by) if found else []
    totals = {p: found[p][:width] for p in found}
    matches: dict[str, list[int]] = {}
    values: dict[str, list[float | None]] = {}
    for k, term in enumerate(queries):  # the columns' order; a term given twice is counted once
        mine = {p: found[p][width + k * width: width + (k + 1) * width] for p in found}
        matches[term] = [mine.get(p, (0,))[0] for p in periods]
        values[term] = [_value(per, mine.get(p), totals.get(p)) for p in periods]
    return Trend(terms, by, per, periods, [totals.get(p, (0,))[0] for p in periods], matches, values, undated)


def _value(per: str, found: tuple | None, total: tuple | None) -> float | None:
    if not total or not total[0]:
        return None
    if per == "count":
        return float(found[0]) if found else 0.0
    if per == "speeches":
        return round(100 * (found[0] if found else 0) / total[0], 4)
    return round(10_000 * (found[1] or 0) / total[1], 4) if found and total[1] else 0.0


def to_csv(t: Trend, bom: bool = False) -> str:
    """One row per period: its speeches, then each term's value and matching speeches."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t.by, "speeches", *(f"{term} ({t.per})" for term in t.terms),
                     *(f"{term} (speeches using it)" for term in t.terms)])
    for k, p in enumerate(t.periods):
        writer.writerow([p, t.totals[k], *("" if t.values[term][k] is None else t.values[term][k] for term in t.terms),
                         *(t.matches[term][k] for term in t.terms)])
    return ("\ufeff" if bom else "") + out.getvalue()
