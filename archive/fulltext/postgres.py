"""PostgreSQL's full-text index: a GIN-indexed array of each speech's characters and bigrams.

``speech_grams`` holds the distinct characters and bigrams of each speech in a GIN-indexed
``bigint[]``, each gram coded as a number (``code``, migration 0019): a one- or two-character term
is an exact array lookup; a longer term must hold all its bigrams and then pass a substring
recheck. Lookups go through the SQL function ``speech_ids_with(grams)`` (migration 0005), which
runs with sequential scans off: the planner prices ``@>`` on a row as cheap, not knowing each array
is a compressed TOAST value (~70 µs to read), so for a common gram it would scan and decompress
every array (1.4 s at 20,000 speeches) where the GIN bitmap takes 7 ms. The index also holds each
speech's thousand of ids (``speech_id / 1000``, migration 0018), so ``speech_ids_with(grams, above,
newest)`` reads the matches newer than ``above`` alone: a common character's newest matches without
all its ids.

A writer that ingests (``archive.ingest``) has its speeches indexed after each commit, on a
connection and thread of its own (``Indexer``): indexing a speech costs the server ~5 ms, which
the writer waited for at every commit, while the index only serves searches. A speech the
indexer has not reached yet (or that a killed writer left) has no row here; the next indexer
starts with those.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from sqlalchemy import (BigInteger, Column, Connection, Engine, Integer, MetaData, Select, Table, and_, cast, func,
                        intersect, not_, or_, select, text, union)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.elements import ColumnElement

from archive.ahead import Ahead
from archive.fulltext.base import Matching, holds
from archive.storage.models import Speech

grams_table = Table("speech_grams", MetaData(), Column("speech_id", Integer, primary_key=True),
                    Column("grams", ARRAY(BigInteger), nullable=False))
_GIN = "CREATE INDEX ix_speech_grams_grams ON speech_grams USING gin (grams, (ARRAY[speech_id / 1000]))"  # 0018
_ADD = text("INSERT INTO speech_grams (speech_id, grams) VALUES (:id, CAST(:grams AS bigint[]))")
_SHIFT = 21  # bits of a code point (up to U+10FFFF)
# a committed speech's grams, if its text is still the one they were made of: the speech's row is
# shared until the insert commits, so a writer changing or deleting it meanwhile waits, then
# deletes this row (``PostgresIndex.remove``); one that changed it first makes this insert skip it.
# Rows are locked in id order, as writers lock the speeches they change: no two wait on each other
_ADD_COMMITTED = """INSERT INTO speech_grams (speech_id, grams)
SELECT s.id, CAST(v.grams AS bigint[]) FROM speeches AS s
JOIN unnest(%s::int[], %s::text[], %s::text[]) AS v (id, search_text, grams)
  ON s.id = v.id AND s.search_text = v.search_text
ORDER BY s.id FOR SHARE OF s
ON CONFLICT (speech_id) DO UPDATE SET grams = EXCLUDED.grams"""
_UNINDEXED = "SELECT id FROM speeches AS s WHERE NOT EXISTS (SELECT 1 FROM speech_grams AS g WHERE g.speech_id = s.id)"


def code(gram: str) -> int:
    """A character's code point; a bigram's two, the first shifted left: the two kinds never meet,
    as a text holds no U+0000. Numbers, not text, for the GIN index to compare: a speech's ~2,900
    grams cost the server 5.6–6.6 ms to index as ``bigint[]`` against 10.3–11.0 as ``text[]``."""
    return ord(gram) if len(gram) == 1 else ord(gram[0]) << _SHIFT | ord(gram[1])


def grams_of(search_text: str) -> list[int]:
    """The codes of its distinct characters and bigrams, in order (numpy: 0.9 ms a speech, where
    a set of Python ints took 1.4)."""
    points = np.frombuffer(search_text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return np.unique(np.concatenate((points, points[:-1] << _SHIFT | points[1:]))).tolist()


def array_literal(items: list[int]) -> str:
    """PostgreSQL's text form of a ``bigint[]``, for the server to parse: the driver adapting a
    speech's ~2,900 grams one by one took 3 ms of the writer's CPU."""
    return "{" + ",".join(map(str, items)) + "}"


def holding(term: str, newer_than: int | None = None) -> Select:
    """Ids (column ``id``) of the speeches holding every gram of ``term``: a one- or two-character
    term is a gram; a longer one, all its bigrams (perhaps apart). ``newer_than``: of the speeches
    with a greater id only, told by the index (migration 0018) up to the newest speech."""
    needed = cast([code(term)] if len(term) <= 2 else sorted({code(term[i:i + 2]) for i in range(len(term) - 1)}),
                  ARRAY(BigInteger))
    if newer_than is None:
        return select(func.speech_ids_with(needed).column_valued("id"))
    newest = select(func.max(Speech.id)).scalar_subquery()
    return select(func.speech_ids_with(needed, newer_than, func.coalesce(newest, 0)).column_valued("id"))


def contains(term: str) -> ColumnElement[bool]:
    """Speeches whose folded text contains ``term``."""
    indexed = Speech.id.in_(holding(term))
    return indexed if len(term) <= 2 else and_(indexed, holds(Speech.search_text, term))


class PostgresIndex:
    name = "postgresql"
    document = Ahead(lambda search_text: array_literal(grams_of(search_text)))  # computed ahead by the pool
    # the planner misjudges a substring test as rare and sorts a full scan instead of walking the
    # date index: search spells the walk out (archive.query.search._walk)
    walks_dates_itself = False

    def add(self, conn: Connection, rows: Iterable[tuple[int, str]]) -> None:
        rows = [{"id": i, "grams": self.document(t)} for i, t in rows]
        if rows:
            conn.execute(_ADD, rows)

    def remove(self, conn: Connection, speech_id: int, old_search_text: str) -> None:
        """The speech's row is locked first: an ``Indexer`` inserting its older grams holds it until
        that insert commits, and the delete must come after, to see it."""
        conn.execute(select(Speech.id).where(Speech.id == speech_id).with_for_update(key_share=True))
        conn.execute(grams_table.delete().where(grams_table.c.speech_id == speech_id))

    def indexer(self, engine: Engine) -> Indexer:
        return Indexer(engine, self.document)

    def clear(self, conn: Connection) -> None:
        conn.execute(grams_table.delete())

    @contextmanager
    def bulk_load(self, conn: Connection) -> Iterator[None]:
        """Build the GIN index once, after the rows: maintaining it row by row over arrays of ~1,500
        grams makes a large load take hours; building it afterwards from sorted entries takes
        minutes. Inside the transaction, so a failed load leaves the old index in place."""
        conn.execute(text("DROP INDEX IF EXISTS ix_speech_grams_grams"))
        yield
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        conn.execute(text(_GIN))
        conn.execute(text("ANALYZE speech_grams"))

    def matching(self, groups: list[list[str]], excluded: list[str]) -> Matching:
        stmt = select(Speech).where(and_(*[or_(*[contains(t) for t in g]) for g in groups]))
        if excluded:
            stmt = stmt.where(not_(or_(*[contains(t) for t in excluded])))
        return Matching(stmt, None, Speech.id.desc())  # ranked on each text, read once (archive.query.search)

    def candidates(self, groups: list[list[str]], newer_than: int | None = None) -> Select:
        """Ids of the speeches holding every gram of a term of each group: each match, and some
        speeches that hold a longer term's bigrams apart (a text test tells them apart)."""
        per_group = [union(*[holding(t, newer_than) for t in g]) if len(g) > 1 else holding(g[0], newer_than)
                     for g in groups]
        return intersect(*per_group) if len(per_group) > 1 else per_group[0]

    def ids(self, groups: list[list[str]], excluded: list[str]) -> Select:
        """Terms of one or two characters are grams: their candidates are exactly the matches, read
        from the index alone (100,000 ids in ~40 ms, where joining each to its speech took 250)."""
        if not excluded and all(len(t) <= 2 for g in groups for t in g):
            return self.candidates(groups)
        return self.matching(groups, excluded).stmt.with_only_columns(Speech.id)

    def rechecks(self, groups: list[list[str]], excluded: list[str]) -> bool:
        return any(len(t) > 2 for t in (*(t for g in groups for t in g), *excluded))

    def sample(self, groups: list[list[str]], excluded: list[str], every: int) -> Select:
        """The sampled candidates are set apart first (a materialized CTE), so only they are read
        and tested: a candidate's text comes from TOAST at 15–30 µs, and a four-character word
        common enough to have 9,000 candidates took 150–280 ms to test them all. Each sampled text is
        tested for every term, short ones too, so the index is asked once, for the candidates."""
        candidates = self.candidates(groups).subquery("candidates")
        first = list(candidates.c)[0]
        sampled = select(first.label("id")).where(first % every == 0).cte("sampled").prefix_with("MATERIALIZED")
        stmt = select(Speech.id).where(Speech.id.in_(select(sampled.c.id)),
                                       *[or_(*[holds(Speech.search_text, t) for t in g]) for g in groups])
        return stmt.where(not_(or_(*[holds(Speech.search_text, t) for t in excluded]))) if excluded else stmt

    def narrow(self, stmt: Select, ids: Select) -> Select:
        """A join: ``IN`` made the planner first make the ids distinct, which they already are (a
        hash of 98,000 ids, 45 ms of a 145 ms yearly count of a one-character word; joined, 82)."""
        matched = ids.subquery("matched")
        return stmt.join(matched, Speech.id == list(matched.c)[0])


INDEX = PostgresIndex()


_Row = tuple[int, str, str]  # speech id, its search_text, its document (grams as an array literal)


class Indexer:
    """Indexes the speeches a writer committed, on a connection and thread of its own, in the order
    of their commits, starting with every speech that has no row yet. ``stage`` the rows a
    transaction is about to commit, then ``send_staged`` once it has committed (or ``drop_staged``);
    ``close`` waits for everything sent and raises what failed. At most ``BACKLOG`` commits wait:
    a writer that gets further ahead waits for the index (memory stays bounded)."""

    BACKLOG = 8
    CATCH_UP = 500  # unindexed speeches read and indexed at a time

    def __init__(self, engine: Engine, document: Ahead[str]) -> None:
        self.engine, self.document = engine, document
        self.staged: list[_Row] = []
        self.sent: queue.Queue[list[_Row] | None] = queue.Queue(self.BACKLOG)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="fulltext-indexer", daemon=True)
        self.thread.start()

    def stage(self, rows: list[tuple[int, str]]) -> None:
        self.staged.extend((i, t, self.document(t)) for i, t in rows)

    def send_staged(self) -> None:
        if self.staged:
            self.sent.put(self.staged)
            self.staged = []

    def drop_staged(self) -> None:
        self.staged = []

    def close(self) -> None:
        self.send_staged()
        self.sent.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        conn = self.engine.raw_connection()
        try:
            self._catch_up(conn)
            while (rows := self.sent.get()) is not None:
                self._add(conn, rows)
        except BaseException as exc:  # noqa: BLE001 - raised by close; the next indexer indexes what is left
            self.error = exc
            while self.sent.get() is not None:  # the writer waits on none of its puts
                pass
        finally:
            conn.close()

    def _catch_up(self, conn: PoolProxiedConnection) -> None:
        with conn.cursor() as cur:
            cur.execute(_UNINDEXED)
            ids = sorted(i for i, in cur.fetchall())
            for start in range(0, len(ids), self.CATCH_UP):
                cur.execute("SELECT id, search_text FROM speeches WHERE id = ANY(%s)", [ids[start:start + self.CATCH_UP]])
                self._add(conn, [(i, t, array_literal(grams_of(t))) for i, t in cur.fetchall()])
        conn.commit()  # idle in a transaction it would hold its tables from others (a DROP SCHEMA)

    @staticmethod
    def _add(conn: PoolProxiedConnection, rows: list[_Row]) -> None:
        if not rows:
            return
        with conn.cursor() as cur:
            cur.execute(_ADD_COMMITTED, [list(column) for column in zip(*rows, strict=True)])
        conn.commit()
