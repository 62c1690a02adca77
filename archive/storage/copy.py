"""Copying a whole archive into another database: the move from the embedded SQLite file to
PostgreSQL (or back), with every raw page, capture, speech, version, group, run and dedup posting.

Ids are kept, so permalinks, group ids and export cursors stay valid after the move. The copy is
one transaction on the target: an interrupted copy leaves the target empty, and the source is only
read. The full-text index is built from the copied speeches in the target's own form (FTS5 or GIN).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import DateTime, Engine, Table, func, insert, select, text
from sqlalchemy.engine import Connection, make_url

from archive import fulltext
from archive.storage.db import ArchiveError, open_archive, vacuum
from archive.storage.models import Base, Speech, as_utc

Progress = Callable[[str, int, int], None]  # (table, rows copied, rows in all)


def copy_archive(source_url: str, target_url: str, progress: Progress | None = None,
                 batch: int = 500) -> dict[str, int]:
    """Copy every table of the archive at ``source_url`` into the empty archive at ``target_url``;
    returns the rows copied per table."""
    if make_url(source_url) == make_url(target_url):
        raise ArchiveError("the target is the archive itself: give another database")
    source, target = open_archive(source_url), open_archive(target_url, writer=True)
    try:
        with source.connect() as read, target.begin() as write:
            _require_empty(write, target)
            copied = {}
            index = fulltext.index_for(write.dialect.name)
            with index.bulk_load(write):
                for table in Base.metadata.sorted_tables:  # referenced tables first
                    copied[table.name] = _copy_table(read, write, table, batch, progress, index)
            if write.dialect.name == "postgresql":
                _advance_sequences(write)
        vacuum(target)  # searched at once, as fast as it will be once autovacuum has been by
        return copied
    finally:
        source.dispose()
        target.dispose()


def _require_empty(conn: Connection, engine: Engine) -> None:
    for table in Base.metadata.sorted_tables:
        if conn.scalar(select(func.count()).select_from(table)):
            raise ArchiveError(f"{engine.url.render_as_string(hide_password=True)} already holds {table.name}: "
                               "copy into a new, empty archive (ids are kept, so they cannot be merged)")


def _copy_table(read: Connection, write: Connection, table: Table, batch: int, progress: Progress | None,
                index: fulltext.Index) -> int:
    total = read.scalar(select(func.count()).select_from(table)) or 0
    stamps = [c.name for c in table.columns if isinstance(c.type, DateTime)]
    rows = read.execute(select(table).order_by(*table.primary_key.columns).execution_options(yield_per=batch))
    done = 0
    for chunk in rows.mappings().partitions():
        values = [_utc(dict(row), stamps) for row in chunk]
        write.execute(insert(table), values)
        if table is Speech.__table__:
            index.add(write, [(v["id"], v["search_text"]) for v in values])
        done += len(values)
        if progress:
            progress(f"copying {table.name}", done, total)
    return done


def _utc(row: dict, stamps: list[str]) -> dict:
    """SQLite hands back the archive's UTC times without a zone; PostgreSQL would read them in its
    session's time zone, so they are marked UTC."""
    for name in stamps:
        if row[name] is not None:
            row[name] = as_utc(row[name])
    return row


def _advance_sequences(conn: Connection) -> None:
    """Rows came with their ids: move each id sequence past them, or the next insert collides."""
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement in (True, "auto") and table.c.id.primary_key:
            conn.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), m) FROM (SELECT max(id) AS m FROM "
                              f"{table.name}) AS top WHERE m IS NOT NULL"), {"t": table.name})
