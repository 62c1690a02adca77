"""Search: substring semantics for Chinese, in either script, over the folded text of each speech.

A query is parsed into a ``Query``; ``build_search`` turns it into a SELECT without running it,
so both can be tested. Terms are folded like the stored text (simplified, half-width, lower case),
so a simplified query finds traditional copies and the reverse, and a one- or two-character word
finds every speech that contains it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, and_, not_, or_, select
from sqlalchemy.orm import Session

from archive.models import DupGroup, Speech
from cleaners.chars import fold


class QueryError(ValueError):
    """The query cannot be understood; the message says what to change."""


@dataclass
class Query:
    groups: list[list[str]] = field(default_factory=list)  # AND of ORs: [[a], [b, c]] = a AND (b OR c)
    excluded: list[str] = field(default_factory=list)

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
        term = fold(tok).strip()
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
    if not query.groups:
        raise QueryError("the query has no words to search for")
    return query


@dataclass
class Filters:
    site: str | None = None
    speaker: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    truncated: bool | None = None
    canonical_only: bool = False
    changed_since: datetime | None = None  # added or changed after this moment (incremental exports)


def apply_filters(stmt: Select, filters: Filters) -> Select:
    if filters.site:
        stmt = stmt.where(Speech.site == filters.site)
    if filters.speaker:
        stmt = stmt.where(Speech.speaker == filters.speaker)
    if filters.date_from:
        stmt = stmt.where(Speech.speech_date >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(Speech.speech_date <= filters.date_to)
    if filters.truncated is not None:
        stmt = stmt.where(Speech.truncated == filters.truncated)
    if filters.changed_since:
        stmt = stmt.where(Speech.updated_at > filters.changed_since)
    if filters.canonical_only:
        stmt = stmt.where(Speech.id.in_(select(DupGroup.canonical_id)))
    return stmt


def build_search(query: Query, filters: Filters | None = None, limit: int = 20, offset: int = 0) -> Select:
    has = lambda term: Speech.search_text.contains(term, autoescape=True)  # noqa: E731
    stmt = select(Speech).where(and_(*[or_(*[has(t) for t in group]) for group in query.groups]))
    if query.excluded:
        stmt = stmt.where(not_(or_(*[has(t) for t in query.excluded])))
    stmt = apply_filters(stmt, filters or Filters())
    return stmt.order_by(Speech.speech_date.desc().nulls_last(), Speech.id).limit(limit).offset(offset)


@dataclass
class Hit:
    speech: Speech
    snippet: str
    count: int


def snippet(speech: Speech, terms: list[str], width: int = 30) -> tuple[str, int]:
    """The first hit with ``width`` characters either side, marked 【…】; and the number of hits."""
    original = speech.title + "\n" + speech.text
    folded = speech.search_text if len(speech.search_text) == len(original) else fold(original)
    positions = [(m.start(), m.end()) for t in terms for m in re.finditer(re.escape(t), folded)]
    if not positions:
        return original[: 2 * width].replace("\n", " "), 0
    start, end = min(positions)
    left = original[max(0, start - width): start]
    right = original[end: end + width]
    text = f"{'…' if start > width else ''}{left}【{original[start:end]}】{right}{'…' if end + width < len(original) else ''}"
    return text.replace("\n", " "), len(positions)


def search(session: Session, text: str, filters: Filters | None = None, limit: int = 20, offset: int = 0) -> list[Hit]:
    query = parse_query(text)
    rows = session.scalars(build_search(query, filters, limit, offset)).all()
    return [Hit(s, *snippet(s, query.terms)) for s in rows]
