"""Key word in context: every occurrence of a query's terms with its left and right context.

Matching happens on the folded text (so a simplified query finds traditional copies) and the
context is cut from the published text at the same positions: folding keeps every character in
place. Lines sort by position, or — as concordancers do — by the left context read backwards or
by the right context, so recurring collocations line up.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

from sqlalchemy.orm import Session

from archive.query.search import Filters, QueryError, parse_query, search
from archive.storage.models import search_fold

SORTS = ("position", "left", "right")


@dataclass(frozen=True)
class Line:
    speech_id: int
    title: str
    site: str
    speech_date: str | None
    position: int  # character offset in the speech's text
    left: str
    match: str
    right: str


def lines_in(speech_id: int, title: str, site: str, speech_date: str | None, text: str, terms: list[str],
             width: int) -> list[Line]:
    """All occurrences of ``terms`` in one text (a pure function: the unit tests call it directly)."""
    folded = search_fold(text)
    if len(folded) != len(text):  # folding is length-preserving; guard anyway, never misalign context
        return []
    pattern = re.compile("|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)))
    out = []
    for m in pattern.finditer(folded):
        left = text[max(0, m.start() - width): m.start()].replace("\n", " ")
        right = text[m.end(): m.end() + width].replace("\n", " ")
        out.append(Line(speech_id, title, site, speech_date, m.start(), left, text[m.start():m.end()], right))
    return out


def concordance(session: Session, query_text: str, filters: Filters | None = None, width: int = 12,
                sort: str = "position", limit: int = 1000, speeches: int = 500) -> list[Line]:
    """Concordance lines for the speeches a search returns (by date), at most ``limit`` lines."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
    if not 1 <= width <= 200:
        raise QueryError("context width must be between 1 and 200 characters")
    query = parse_query(query_text)
    out: list[Line] = []
    for hit in search(session, query_text, filters, limit=speeches, order="date"):
        s = hit.speech
        out.extend(lines_in(s.id, s.title, s.site, s.speech_date, s.text, query.terms, width))
        if len(out) >= limit:
            break
    out = out[:limit]
    if sort == "left":
        out.sort(key=lambda line: line.left[::-1])
    elif sort == "right":
        out.sort(key=lambda line: line.right)
    return out


CSV_FIELDS = tuple(f.name for f in fields(Line))


def to_csv(lines: Iterable[Line], bom: bool = False) -> str:
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    writer.writerows(asdict(line) for line in lines)
    return buffer.getvalue()
