"""What every engine of the full-text index offers (``Index``), and what a query of it gives."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Engine, Integer, Select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from archive.ahead import Ahead


class _position(FunctionElement):  # noqa: N801 - a SQL function: where a term starts in a text, 0 if nowhere
    type = Integer()
    inherit_cache = True


@compiles(_position)
def _position_anywhere(element: _position, compiler: SQLCompiler, **kw: object) -> str:
    text, term = element.clauses
    return f"POSITION({compiler.process(term, **kw)} IN {compiler.process(text, **kw)})"


@compiles(_position, "sqlite")
def _position_sqlite(element: _position, compiler: SQLCompiler, **kw: object) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _position_postgresql(element: _position, compiler: SQLCompiler, **kw: object) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def holds(text: ColumnElement[str], term: str) -> ColumnElement[bool]:
    """``text`` holds ``term`` as a substring: each database's string search, not ``LIKE '%term%'``.
    PostgreSQL's LIKE walked a Chinese text at half the speed of ``strpos`` (a 4-character word over
    40,000 texts: 294 against 143 ms, 90 of them reading the texts); SQLite's ``instr`` is as fast
    as its LIKE or faster; and the term needs no escaping."""
    return _position(text, term) > 0


@dataclass(frozen=True)
class Matching:
    stmt: Select  # SELECT of the matching speeches
    rank: ColumnElement | None  # lower is better; None: ranked on the text (archive.query.search ranks it)
    newest_first: ColumnElement  # the order the index can deliver matches in, newest first, without sorting


class Indexer(Protocol):
    def stage(self, rows: list[tuple[int, str]]) -> None:
        """(speech id, search_text) pairs a transaction is about to commit."""

    def send_staged(self) -> None:
        """Index what was staged: its transaction committed."""

    def drop_staged(self) -> None:
        """Forget what was staged: its transaction rolled back."""

    def close(self) -> None:
        """Wait until everything sent is indexed; raise what failed."""


class Index(Protocol):
    name: str  # the SQLAlchemy dialect it serves
    walks_dates_itself: bool  # the planner walks the date index for a substring test without help
    document: Ahead[str]  # what the index stores of a search_text: a pure function, computed ahead by the pool

    def add(self, conn: Connection, rows: list[tuple[int, str]]) -> None:
        """Index (speech id, search_text) pairs that are not indexed yet."""

    def remove(self, conn: Connection, speech_id: int, old_search_text: str) -> None:
        """Take a speech out (``old_search_text``: what was indexed)."""

    def indexer(self, engine: Engine) -> Indexer | None:
        """What indexes a writer's speeches after its commits, off its path (``follow_speeches``),
        or None: indexed in the transaction that stores them."""

    def clear(self, conn: Connection) -> None:
        """Take every speech out."""

    def bulk_load(self, conn: Connection) -> AbstractContextManager[None]:
        """Around adding many speeches at once."""

    def matching(self, groups: list[list[str]], excluded: list[str]) -> Matching:
        """The speeches holding a term of every group and none of ``excluded`` (folded terms)."""

    def candidates(self, groups: list[list[str]], newer_than: int | None = None) -> Select:
        """Ids (column ``id``) of every speech holding a term of each group, and perhaps of some
        that do not (a test on the text tells them apart): what the index alone can say. With
        ``newer_than``, only ids above it, read without the older ones'."""

    def ids(self, groups: list[list[str]], excluded: list[str]) -> Select:
        """Their ids alone, read from the index where it can give them (counts, trends, exports)."""

    def rechecks(self, groups: list[list[str]], excluded: list[str]) -> bool:
        """Whether this query's matches are told from its candidates by a test on each text (the
        cost ``sample`` saves)."""

    def sample(self, groups: list[list[str]], excluded: list[str], every: int) -> Select:
        """The ids of the matches whose id is a multiple of ``every``, testing only those candidates
        on their text: the matches estimated at ``1/every`` of the cost."""

    def narrow(self, stmt: Select, ids: Select) -> Select:
        """``stmt``, a count over speeches, narrowed to those whose ids ``ids`` gives (each once),
        the way this engine counts them fastest (facets)."""
