"""The full-text index: exact substring search over ``speeches.search_text`` at any query length.

Most Chinese words are two characters, and SQLite's trigram tokenizer silently finds nothing for
them, so each backend indexes character n-grams itself, in a module of its own behind one
interface (``base.Index``): ``sqlite`` (FTS5 bigram phrases) and ``postgres`` (a GIN-indexed array
of characters and bigrams). ``index_for`` picks the engine once per connection; nothing else asks
which database it talks to.

``follow_speeches`` (called when an archive is opened) keeps the index current through ORM events,
so every code path that stores or changes a speech keeps it current; bulk loads call ``rebuild``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, bindparam, event, inspect, select

from archive.fulltext import postgres, sqlite
from archive.fulltext.base import Index, Matching
from archive.storage.models import Speech, search_text_of

__all__ = ["Index", "Matching", "follow_speeches", "index_for", "rebuild", "refold"]

_ENGINES: dict[str, Index] = {sqlite.INDEX.name: sqlite.INDEX, postgres.INDEX.name: postgres.INDEX}


def index_for(dialect: str) -> Index:
    """The index engine of a database of this dialect."""
    try:
        return _ENGINES[dialect]
    except KeyError:
        raise ValueError(f"no full-text index for {dialect} databases: use SQLite or PostgreSQL") from None


def rebuild(conn: Connection, batch: int = 1000) -> int:
    """Index every speech from scratch; returns how many."""
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
    index_for(conn.dialect.name).add(conn, [(target.id, target.search_text)])


def _reindexed_on_change(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    if not inspect(target).attrs.search_text.history.has_changes():
        return  # most updates (group, dedup counters) leave the text alone: no extra query for them
    old = _stored_text(conn, target.id)
    if old is not None and old != target.search_text:
        index = index_for(conn.dialect.name)
        index.remove(conn, target.id, old)
        index.add(conn, [(target.id, target.search_text)])


def _unindexed_on_delete(_mapper, conn: Connection, target: Speech) -> None:  # noqa: ANN001
    old = _stored_text(conn, target.id)
    if old is not None:
        index_for(conn.dialect.name).remove(conn, target.id, old)


_EVENTS = (("after_insert", _indexed_on_insert), ("before_update", _reindexed_on_change),
           ("before_delete", _unindexed_on_delete))


def follow_speeches() -> None:
    """Keep the index current as speeches are stored, changed and deleted through the ORM (once)."""
    for name, fn in _EVENTS:
        if not event.contains(Speech, name, fn):
            event.listen(Speech, name, fn)
