"""Trends against a count by hand: the labelled copies of 15 speeches spread over the years, on both
backends; canonical copies only by default, every copy on request."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.query.search import Filters, QueryError, parse_query
from archive.query.trend import to_csv, trend
from archive.storage.models import DupGroup, Speech
from tests.dedup.labelled import labelled_set
from tests.test_dedup_gate import add_speech

YEARS = {0: "2001-03-05", 1: "2001-11-20", 2: "2002-06-01", 3: "2004-01-09", 4: "2004-12-30"}  # none in 2003


def dated_archive(session: Session) -> list[Speech]:
    """The labelled set grouped as a crawl groups it; base b dated YEARS[b % 5], base 14 undated."""
    docs = labelled_set()
    speeches = [add_speech(session, n, d.text, d.truncated) for n, d in enumerate(docs)]
    for s, d in zip(speeches, docs, strict=True):
        s.speech_date = YEARS[d.base % 5] if d.base != 14 else None
    session.commit()
    return speeches


def by_hand(speeches: list[Speech], term: str, year: str, every_copy: bool = False) -> tuple[int, int, int, int]:
    """(speeches of the year, of them using the term, its occurrences, their characters), by a scan."""
    query = parse_query(term)
    counted = [s for s in speeches if (s.speech_date or "").startswith(year) and (every_copy or s.canonical)]
    using = [s for s in counted if all(any(t in s.search_text for t in g) for g in query.groups)]
    return (len(counted), len(using), sum(s.search_text.count(t) for s in using for t in query.terms),
            sum(len(s.search_text) for s in counted))


def test_a_trend_counts_what_a_scan_counts_canonical_copies_by_default(session: Session) -> None:
    speeches = dated_archive(session)
    canonical = set(session.scalars(select(DupGroup.canonical_id)))
    for s in speeches:
        s.canonical = s.id in canonical
    terms = ["干部", "改革", '"基层组织"']
    for per in ("speeches", "10k-chars", "count"):
        t = trend(session, terms, per=per)
        assert t.periods == ["2001", "2002", "2003", "2004"]
        assert t.undated == sum(1 for s in speeches if s.canonical and s.speech_date is None) > 0
        for k, year in enumerate(t.periods):
            for term in terms:
                total, using, occurrences, chars = by_hand(speeches, term, year)
                assert t.totals[k] == total and t.matches[term][k] == using, (term, year)
                expected = {"count": using if total else None, "speeches": round(100 * using / total, 4) if total else None,
                            "10k-chars": round(10_000 * occurrences / chars, 4) if total else None}[per]
                assert t.values[term][k] == expected, (per, term, year)
    no_speech = trend(session, ["干部"])  # 2003
    assert no_speech.totals[2] == 0 and no_speech.values["干部"][2] is None and no_speech.matches["干部"][2] == 0
    every = trend(session, ["干部"], per="count", filters=Filters())
    assert every.matches["干部"] == [by_hand(speeches, "干部", y, every_copy=True)[1] for y in every.periods]
    assert every.undated == sum(1 for s in speeches if s.speech_date is None)
    assert sum(every.matches["干部"]) > sum(trend(session, ["干部"], per="count").matches["干部"])


def test_a_trend_by_month_and_as_csv(session: Session) -> None:
    dated_archive(session)
    t = trend(session, ["干部"], by="month", per="count")
    assert t.periods[0] == "2001-03" and t.periods[-1] == "2004-12" and len(t.periods) == 46
    rows = to_csv(t).splitlines()
    assert rows[0] == "month,speeches,干部 (count),干部 (speeches using it)" and len(rows) == 47
    assert rows[1].startswith("2001-03,") and rows[2] == "2001-04,0,,0"


@pytest.mark.parametrize("args,message", [((["干部"], "week"), "unknown period"), ((["干部"], "year", "pages"), "unknown measure"),
                                          (([" "],), "at least one term"), ((['"unbalanced'],), "unbalanced quotes")])
def test_bad_trend_requests_are_query_errors(session: Session, args: tuple, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        trend(session, *args)
