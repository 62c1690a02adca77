"""What every engine of the full-text index offers (``Index``), and what a query of it gives."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Select
from sqlalchemy.sql.elements import ColumnElement


@dataclass(frozen=True)
class Matching:
    stmt: Select  # SELECT of the matching speeches
    rank: ColumnElement | None  # lower is better; None: ranked on the text (archive.query.search ranks it)
    newest_first: ColumnElement  # the order the index can deliver matches in, newest first, without sorting


class Index(Protocol):
    name: str  # the SQLAlchemy dialect it serves
    walks_dates_itself: bool  # the planner walks the date index for a substring test without help

    def add(self, conn: Connection, rows: list[tuple[int, str]]) -> None:
        """Index (speech id, search_text) pairs that are not indexed yet."""

    def remove(self, conn: Connection, speech_id: int, old_search_text: str) -> None:
        """Take a speech out (``old_search_text``: what was indexed)."""

    def clear(self, conn: Connection) -> None:
        """Take every speech out."""

    def bulk_load(self, conn: Connection) -> AbstractContextManager[None]:
        """Around adding many speeches at once."""

    def matching(self, groups: list[list[str]], excluded: list[str]) -> Matching:
        """The speeches holding a term of every group and none of ``excluded`` (folded terms)."""

    def candidates(self, groups: list[list[str]]) -> Select:
        """Ids (column ``id``) of every speech holding a term of each group, and perhaps of some
        that do not (a test on the text tells them apart): what the index alone can say."""

    def ids(self, groups: list[list[str]], excluded: list[str]) -> Select:
        """Their ids alone, read from the index where it can give them (counts, trends, exports)."""

    def narrow(self, stmt: Select, ids: Select) -> Select:
        """``stmt``, a count over speeches, narrowed to those whose ids ``ids`` gives (each once),
        the way this engine counts them fastest (facets, trends)."""
