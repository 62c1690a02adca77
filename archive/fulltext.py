"""The full-text index: exact substring search over folded text at any query length.

Most Chinese words are two characters, and SQLite's trigram tokenizer silently finds nothing for
them, so both backends index character n-grams themselves:

* SQLite — FTS5 table ``speech_grams`` (contentless): each speech as the sequence of its character
  bigrams, each written as eight ASCII letters (two base-36 code points) so no tokenizer splits or
  folds them. A term of two or more characters is the FTS5 phrase of its overlapping bigrams —
  consecutive positions, so exactly a substring; a one-character term is a prefix query on its code
  (FTS5 keeps an index of 4-character prefixes). The last character of a text is followed by an
  end mark so it has a bigram too.
* PostgreSQL — table ``speech_grams`` with the distinct characters and bigrams of each speech in a
  GIN-indexed ``text[]``: a one- or two-character term is an exact array lookup; a longer term must
  hold all its bigrams and then pass a ``LIKE`` recheck. Lookups go through the SQL function
  ``speech_ids_with(grams)``, which runs with sequential scans off: the planner prices ``@>`` on a
  row as cheap, not knowing each array is a compressed TOAST value (~70 µs to read), so for a common
  gram it would scan and decompress every array (1.4 s at 20,000 speeches) where the GIN bitmap
  takes 7 ms.

The index follows ``speeches.search_text`` through ORM events, so every code path that stores or
changes a speech keeps it current.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import (Column, Connection, Integer, MetaData, Table, Text, and_, bindparam, cast, event, func, inspect,
                        select, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from archive.models import Speech, search_text_of

END = "\x03"  # follows the last character, so a one-character prefix query finds it there too
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

pg_grams = Table("speech_grams", MetaData(), Column("speech_id", Integer, primary_key=True),
                 Column("grams", ARRAY(Text), nullable=False))


def _code(ch: str) -> str:
    """Four base-36 digits: every code point up to U+10FFFF fits (36**4 > 0x110000)."""
    n = ord(ch)
    out = ""
    for _ in range(4):
        n, digit = divmod(n, 36)
        out = _DIGITS[digit] + out
    return out


def fts_document(search_text: str) -> str:
    codes = [_code(c) for c in search_text + END]
    return " ".join(a + b for a, b in zip(codes, codes[1:], strict=False))


def fts_term(term: str) -> str:
    """The FTS5 query for one folded term."""
    if len(term) == 1:
        return f"{_code(term)}*"
    codes = [_code(c) for c in term]
    return '"' + " ".join(a + b for a, b in zip(codes, codes[1:], strict=False)) + '"'


def fts_match(groups: list[list[str]], excluded: list[str]) -> str:
    """An AND of ORs minus the excluded terms, in FTS5 query syntax."""
    expr = " AND ".join("(" + " OR ".join(fts_term(t) for t in group) + ")" for group in groups)
    if excluded:
        expr = f"({expr}) NOT (" + " OR ".join(fts_term(t) for t in excluded) + ")"
    return expr


def grams_of(search_text: str) -> list[str]:
    """Distinct characters and bigrams (PostgreSQL's array)."""
    return sorted(set(search_text) | {search_text[i:i + 2] for i in range(len(search_text) - 1)})


def pg_condition(term: str) -> ColumnElement[bool]:
    """Speeches whose folded text contains ``term`` (PostgreSQL)."""
    needed = [term] if len(term) <= 2 else sorted({term[i:i + 2] for i in range(len(term) - 1)})
    indexed = Speech.id.in_(select(func.speech_ids_with(cast(needed, ARRAY(Text))).column_valued()))
    return indexed if len(term) <= 2 else and_(indexed, Speech.search_text.contains(term, autoescape=True))


def add(conn: Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index (speech id, search_text) pairs that are not indexed yet."""
    rows = list(rows)
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(pg_grams.insert(), [{"speech_id": i, "grams": grams_of(t)} for i, t in rows])
    else:
        conn.execute(text("INSERT INTO speech_grams(rowid, grams) VALUES (:id, :doc)"),
                     [{"id": i, "doc": fts_document(t)} for i, t in rows])


def remove(conn: Connection, speech_id: int, old_search_text: str) -> None:
    """Take a speech out; FTS5's contentless delete needs exactly the text that was indexed."""
    if conn.dialect.name == "postgresql":
        conn.execute(pg_grams.delete().where(pg_grams.c.speech_id == speech_id))
    else:
        conn.execute(text("INSERT INTO speech_grams(speech_grams, rowid, grams) VALUES ('delete', :id, :doc)"),
                     {"id": speech_id, "doc": fts_document(old_search_text)})


_PG_GIN = "CREATE INDEX ix_speech_grams_grams ON speech_grams USING gin (grams)"


def create(conn: Connection) -> None:
    """The index's table (called by the migration that introduces it)."""
    if conn.dialect.name == "postgresql":
        pg_grams.create(conn)
        conn.execute(text(_PG_GIN))
    else:
        conn.execute(text("CREATE VIRTUAL TABLE speech_grams USING fts5(grams, content='', prefix='4')"))


def create_lookup(conn: Connection) -> None:
    """``speech_ids_with(grams)``: the speeches holding every gram, found through the GIN index only.

    A SQL function with a SET clause is never inlined, so the setting holds inside it alone.
    """
    conn.execute(text("""
        CREATE OR REPLACE FUNCTION speech_ids_with(wanted text[]) RETURNS SETOF integer
        LANGUAGE sql STABLE SET enable_seqscan = off SET enable_indexscan = off ROWS 5000
        AS $$ SELECT speech_id FROM speech_grams WHERE grams @> wanted $$"""))


@contextmanager
def bulk_load(conn: Connection) -> Iterator[None]:
    """Around loading many speeches at once: PostgreSQL builds its GIN index once, after the rows.

    Maintaining a GIN index row by row over arrays of ~1,500 grams is what makes a large load take
    hours; building it afterwards from sorted entries takes minutes. Inside the transaction, so a
    failed load leaves the old index in place.
    """
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.execute(text("DROP INDEX IF EXISTS ix_speech_grams_grams"))
    yield
    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    conn.execute(text(_PG_GIN))
    conn.execute(text("ANALYZE speech_grams"))


def rebuild(conn: Connection, batch: int = 1000) -> int:
    """Index every speech from scratch; returns how many."""
    if conn.dialect.name == "postgresql":
        conn.execute(pg_grams.delete())
    else:
        conn.execute(text("INSERT INTO speech_grams(speech_grams) VALUES ('delete-all')"))
    n = 0
    chunk: list[tuple[int, str]] = []
    with bulk_load(conn):
        for row in conn.execute(select(Speech.id, Speech.search_text).order_by(Speech.id)
                                .execution_options(yield_per=batch)):
            chunk.append((row.id, row.search_text))
            if len(chunk) >= batch:
                add(conn, chunk)
                n += len(chunk)
                chunk = []
        add(conn, chunk)
    return n + len(chunk)


def refold(conn: Connection, progress: Callable[[str, int, int], None] | None = None, batch: int = 1000) -> int:
    """Rewrite every speech's ``search_text`` in today's form, then rebuild the index from it (after
    a change of that form or of ``search_placeholders``); returns how many speeches. One transaction:
    an interrupted refold leaves the old texts and index."""
    ids = conn.scalars(select(Speech.id).order_by(Speech.id)).all()
    total = len(ids)
    for start in range(0, total, batch):
        chunk = conn.execute(select(Speech.id, Speech.title, Speech.text, Speech.speaker)
                             .where(Speech.id.in_(ids[start:start + batch]))).all()
        conn.execute(Speech.__table__.update().where(Speech.id == bindparam("sid")),
                     [{"sid": r.id, "search_text": search_text_of(r.title, r.text, r.speaker)} for r in chunk])
        if progress:
            progress("folding", min(start + batch, total), total)
    if progress:
        progress("indexing", 0, total)
    n = rebuild(conn)
    if progress:
        progress("indexing", n, total)
    return n


def _stored_text(conn: Connection, speech_id: int) -> str | None:
    return conn.scalar(select(Speech.search_text).where(Speech.id == speech_id))


@event.listens_for(Speech, "after_insert")
def _indexed_on_insert(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    add(conn, [(target.id, target.search_text)])


@event.listens_for(Speech, "before_update")
def _reindexed_on_change(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    if not inspect(target).attrs.search_text.history.has_changes():
        return  # most updates (group, dedup counters) leave the text alone: no extra query for them
    old = _stored_text(conn, target.id)
    if old is not None and old != target.search_text:
        remove(conn, target.id, old)
        add(conn, [(target.id, target.search_text)])


@event.listens_for(Speech, "before_delete")
def _unindexed_on_delete(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    old = _stored_text(conn, target.id)
    if old is not None:
        remove(conn, target.id, old)
