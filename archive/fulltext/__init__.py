"""The full-text index: exact substring search over ``speeches.search_text`` at any query length.

Most Chinese words are two characters, and SQLite's trigram tokenizer silently finds nothing for
them, so each backend indexes character n-grams itself, in a module of its own behind one
interface (``base.Index``): ``sqlite`` (FTS5 bigram phrases) and ``postgres`` (a GIN-indexed array
of characters and bigrams). ``index_for`` picks the engine once per connection; nothing else asks
which database it talks to.

``follow_speeches`` (called when an archive is opened) keeps the index current through ORM events,
so every code path that stores or changes a speech keeps it current; bulk loads call ``rebuild``.
Speeches added in a transaction are indexed together when it commits, in one statement: SQLite's
FTS5 writes its pending terms out as a new segment at every savepoint, and the writer opens one per
page, so indexing each speech as it came cost 2 ms a page in segments and merges. A read of the
index inside that transaction goes through ``ready``, which indexes them first. A writer that
``defer``s its engine's index (an ingest on PostgreSQL) has them indexed after the commit instead,
off its path, by the engine's ``Indexer``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine, bindparam, event, inspect, select
from sqlalchemy.orm import Session

from archive.fulltext import postgres, sqlite
from archive.fulltext.base import Index, Indexer, Matching
from archive.storage.models import Speech, search_text_of

__all__ = ["Index", "Matching", "defer", "follow_speeches", "index_for", "ready", "rebuild", "refold", "undefer"]

_ENGINES: dict[str, Index] = {sqlite.INDEX.name: sqlite.INDEX, postgres.INDEX.name: postgres.INDEX}


def index_for(dialect: str) -> Index:
    """The index engine of a database of this dialect."""
    try:
        return _ENGINES[dialect]
    except KeyError:
        raise ValueError(f"no full-text index for {dialect} databases: use SQLite or PostgreSQL") from None


_PENDING = "fulltext_pending"  # conn.info: speech id → search_text, added in this transaction, not indexed yet
_MARKS = "fulltext_marks"  # conn.info: what was pending as each open savepoint began, innermost last


def _pending(conn: Connection) -> dict[int, str]:
    return conn.info.setdefault(_PENDING, {})


_DEFERRED: dict[Engine, Indexer] = {}  # engines whose writer has its speeches indexed after each commit


def defer(engine: Engine) -> bool:
    """From now on the speeches that transactions on ``engine`` commit are indexed after their
    commits, off the writer's path, where the engine's index can (PostgreSQL), until ``undefer``.
    False if not: the index cannot, or is deferred already (by the caller's caller)."""
    if engine in _DEFERRED or (indexer := index_for(engine.dialect.name).indexer(engine)) is None:
        return False
    _DEFERRED[engine] = indexer
    return True


def undefer(engine: Engine) -> None:
    """Index in the transaction again, once every speech committed so far is indexed; raises what
    failed (the speeches it left are the next indexer's first work)."""
    indexer = _DEFERRED.pop(engine, None)
    if indexer is not None:
        indexer.close()


def settle(conn: Connection, now: bool = False) -> None:
    """Index the speeches this transaction added in one statement: ``now``, or, where the engine's
    index is deferred, once the transaction has committed."""
    pending = conn.info.get(_PENDING)
    if pending:
        rows = sorted(pending.items())
        pending.clear()
        indexer = None if now else _DEFERRED.get(conn.engine)
        if indexer is None:
            index_for(conn.dialect.name).add(conn, rows)
        else:
            indexer.stage(rows)


def ready(session: Session) -> str:
    """The session's dialect, once its index holds every speech the session added: read the index after this."""
    conn = session.connection()
    settle(conn, now=True)
    return conn.dialect.name


def rebuild(conn: Connection, batch: int = 1000) -> int:
    """Index every speech from scratch; returns how many."""
    _pending(conn).clear()  # they are in the table, so they are indexed below
    index = index_for(conn.dialect.name)
    index.clear(conn)
    n = 0
    chunk: list[tuple[int, str]] = []
    with index.bulk_load(conn):
        for row in conn.execute(select(Speech.id, Speech.search_text).order_by(Speech.id)
                                .execution_options(yield_per=batch)):
            chunk.append((row.id, row.search_text))
            if len(chunk) >= batch:
                index.add(conn, chunk)
                n += len(chunk)
                chunk = []
        index.add(conn, chunk)
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


def _indexed_on_insert(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    _pending(conn)[target.id] = target.search_text


def _reindexed_on_change(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    if not inspect(target).attrs.search_text.history.has_changes():
        return  # most updates (group, dedup counters) leave the text alone: no extra query for them
    pending = _pending(conn)
    if target.id not in pending:
        old = _stored_text(conn, target.id)
        if old is None or old == target.search_text:
            return
        index_for(conn.dialect.name).remove(conn, target.id, old)
    pending[target.id] = target.search_text


def _unindexed_on_delete(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    """From what is pending if it was added in this transaction, else from the index."""
    if _pending(conn).pop(target.id, None) is None and (old := _stored_text(conn, target.id)) is not None:
        index_for(conn.dialect.name).remove(conn, target.id, old)


def _began(conn: Connection) -> None:
    """A transaction begins: the one before it committed what its commit staged (a failed commit rolls back)."""
    conn.info[_PENDING], conn.info[_MARKS] = {}, []
    if (indexer := _DEFERRED.get(conn.engine)) is not None:
        indexer.send_staged()


def _rolled_back(conn: Connection) -> None:
    conn.info[_PENDING], conn.info[_MARKS] = {}, []
    if (indexer := _DEFERRED.get(conn.engine)) is not None:
        indexer.drop_staged()


def _savepoint(conn: Connection, _name: str | None) -> None:
    conn.info.setdefault(_MARKS, []).append(dict(_pending(conn)))


def _released(conn: Connection, _name: str, _context: object) -> None:
    conn.info[_MARKS].pop()


def _rolled_back_to(conn: Connection, _name: str, _context: object) -> None:
    """The database took back what the savepoint wrote, index entries included: pending is again
    what it was when the savepoint began."""
    conn.info[_PENDING] = conn.info[_MARKS].pop()


_EVENTS = (("after_insert", _indexed_on_insert), ("before_update", _reindexed_on_change),
           ("before_delete", _unindexed_on_delete))
_TRANSACTION_EVENTS = (("begin", _began), ("savepoint", _savepoint), ("release_savepoint", _released),
                       ("rollback_savepoint", _rolled_back_to), ("commit", settle), ("rollback", _rolled_back))


def follow_speeches() -> None:
    """Keep the index current as speeches are stored, changed and deleted through the ORM (once)."""
    for name, fn in _EVENTS:
        if not event.contains(Speech, name, fn):
            event.listen(Speech, name, fn)
    for name, fn in _TRANSACTION_EVENTS:
        if not event.contains(Engine, name, fn):
            event.listen(Engine, name, fn)
