"""Opening the archive: one engine per URL, migrated to the newest schema by Alembic on open."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache, partial
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

import settings
from archive import fulltext

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x5A_4D_16  # PostgreSQL advisory lock key held while the schema is migrated
# SQLite page cache per connection, KiB: posting and full-text inserts land all over their indexes,
# which outgrow the default 2 MB after a few hundred speeches and then read pages back for each insert
CACHE_KIB = 16 * 1024  # bounded: a crawl's memory stays flat as the archive grows
BUSY_SECONDS = 30  # how long a SQLite connection waits for another's lock


class ArchiveError(RuntimeError):
    """The archive cannot be opened (bad URL, unreachable server, unwritable file)."""


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
    cur = dbapi_conn.cursor()
    # the wait first: switching a new file to WAL needs a lock that the process migrating it holds
    cur.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
    _into_wal(cur)  # readers never block the crawler's writes
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cur.close()


def _into_wal(cur: sqlite3.Cursor) -> None:
    """Switch the file to WAL (a no-op once it is). Processes opening a new file together race to
    switch it, and SQLite answers a loser "database is locked" at once, not after its busy
    timeout, as waiting could deadlock (six processes, 60 rounds: 7 rounds had one): it tries again."""
    deadline = time.monotonic() + BUSY_SECONDS
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _begin_immediate(engine: Engine) -> None:
    """Writers take SQLite's write lock when their transaction begins, not at their first write.

    A deferred transaction that reads and then writes fails at once (SQLITE_BUSY_SNAPSHOT, which
    the busy timeout does not cover) when another process committed in between; crawler processes
    sharing one file do exactly that. This is SQLAlchemy's documented pysqlite recipe."""

    @event.listens_for(engine, "connect")
    def _driver_leaves_transactions_to_us(dbapi_conn, _record) -> None:  # noqa: ANN001
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest migration, read from the migration files: the revision no other one revises."""
    revisions, revised = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions |= set(re.findall(r"^revision = '(\w+)'", source, re.M))
        revised |= set(re.findall(r"^down_revision = '(\w+)'", source, re.M))
    [head] = revisions - revised
    return head


def at_head(conn: Connection) -> bool:
    """Whether the schema is already the newest: then opening costs no Alembic run (nor its import,
    a sixth of every command's start)."""
    return (inspect(conn).has_table("alembic_version")
            and conn.scalar(text("SELECT version_num FROM alembic_version")) == head_revision())


def _upgrade(conn: Connection, url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


@contextmanager
def _foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite's foreign keys off while migrating. A migration that rebuilds a table (Alembic's batch
    mode: copy, drop, rename) would otherwise have the drop delete what refers to the old table's
    rows: dropping speeches took every shingle with it. The switch only works outside a
    transaction, so it is thrown on the driver's connection before the migration's begins."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if sqlite:
            conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(conn: Connection) -> None:
    """What the migrations left must still hold together; else nothing of them is committed."""
    if conn.dialect.name == "sqlite" and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").first()):
        raise ArchiveError(f"migrating the archive would break its references ({broken[0]} row {broken[1]} "
                           f"→ {broken[2]}): nothing was changed")


def _regroup_if_ungrouped(conn: Connection) -> None:
    """After a migration that dropped the groups (new sketches), regroup with today's code."""
    if conn.scalar(text("SELECT 1 FROM speeches WHERE group_id IS NULL LIMIT 1")):
        from archive.dedup import grouping  # the grouping code, which needs every newer column

        session = Session(bind=conn)
        grouping.rebuild(session)
        session.flush()


def _refold_if_cleared(conn: Connection) -> None:
    """After a migration that cleared the search texts (a new form), refold them with today's code."""
    if conn.scalar(text("SELECT 1 FROM speeches WHERE search_text = '' LIMIT 1")):
        fulltext.refold(conn)


def _migrate(engine: Engine, url: str) -> None:
    """Bring the schema up to the head, one process at a time: processes opening a new archive
    together (a crawl's own, a scheduler's) wait for the first to migrate, then find it done —
    PostgreSQL behind an advisory lock, SQLite behind its write lock, which ``engine`` must take as
    its transactions begin (``_begin_immediate``)."""
    with engine.connect() as conn, _foreign_keys_off(conn), conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        if not at_head(conn):  # asked again under the lock: another process may have just migrated
            _upgrade(conn, url)
            _refold_if_cleared(conn)
            _regroup_if_ungrouped(conn)
            _check_foreign_keys(conn)


def _engine(url: str, kwargs: dict, sqlite: bool, immediate: bool) -> Engine:
    """An engine on ``url``; on SQLite with the archive's pragmas, its transactions taking the
    write lock as they begin if ``immediate``."""
    engine = create_engine(url, **kwargs)
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
        if immediate:
            _begin_immediate(engine)
    return engine


def open_archive(url: str | None = None, migrate: bool = True, writer: bool = False) -> Engine:
    """Engine for the archive at ``url`` (default: the ``db`` setting), schema brought up to date.

    ``writer`` is for processes that archive while others may too (crawlers, reclean, dedup); readers
    such as search and export leave it off so they never hold SQLite's write lock."""
    fulltext.follow_speeches()
    url = url or str(settings.get("db"))
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ArchiveError(f"not a database URL: {url!r}") from exc
    on_disk = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if on_disk:
        folder = Path(parsed.database).resolve().parent
        if not folder.is_dir():
            raise ArchiveError(f"folder for the SQLite archive does not exist: {folder}")
    # JSON columns (a speech's paragraphs, its removals) as UTF-8, not \uXXXX escapes: Chinese text
    # takes half the bytes, and a SQLite row under a page's size is rewritten whole on every update
    kwargs: dict = {"json_serializer": partial(json.dumps, ensure_ascii=False)}
    if parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
    if parsed.drivername == "postgresql+psycopg":
        # No server-side prepared statements: after five runs psycopg would prepare a search, and
        # PostgreSQL's generic plan for it ignores the query's selectivity (0.3 s where the custom plan
        # takes 5 ms); a transaction-pooling PgBouncer in front of the server forbids them too.
        kwargs["connect_args"] = {"prepare_threshold": None}
    sqlite = parsed.get_backend_name() == "sqlite"
    try:
        engine = _engine(url, kwargs, sqlite, immediate=writer)
    except (NoSuchModuleError, ImportError) as exc:
        raise ArchiveError(f"not a database URL we can use: {url!r} ({exc})") from exc
    try:
        with engine.connect() as conn:
            behind = migrate and not at_head(conn)
        if behind and on_disk and not writer:
            # a reader's transactions begin deferred: one read the old schema while another process
            # migrated, then failed to create what that process had created ("already exists")
            migrator = _engine(url, kwargs, sqlite, immediate=True)
            try:
                _migrate(migrator, url)
            finally:
                migrator.dispose()
        elif behind:
            _migrate(engine, url)
    except OperationalError as exc:
        raise ArchiveError(f"cannot open archive {parsed.render_as_string(hide_password=True)}: "
                           f"{exc.orig}") from exc
    return engine


def refresh_statistics(session: Session) -> list[str]:
    """ANALYZE the tables a writer has grown by half or more since PostgreSQL last looked at them;
    returns their names. A new archive fills faster than autovacuum analyzes it, and without
    statistics the planner scans all of ``shingles`` for each speech's postings (35 ms at 450,000
    rows, where the index takes 6). SQLite's plans are written for no statistics and left so."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    stale = session.scalars(text("SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                                 "AND n_mod_since_analyze > GREATEST(1000, n_live_tup / 2)")).all()
    for table in stale:
        session.execute(text(f'ANALYZE "{table}"'))
    session.commit()
    return list(stale)


def vacuum(engine: Engine) -> list[str]:
    """After a bulk load into PostgreSQL, VACUUM (ANALYZE) the archive's tables; returns their names.
    Until a table is vacuumed none of its pages is marked all-visible, so the covering indexes that
    trends and facets read (dates, sites, speakers) fetch every row from the table too: at 100,000
    speeches a two-term yearly trend took 264 ms median before, 204 after (a 4-character one 122
    and 64). Autovacuum does the same, a minute or more after a load. SQLite needs nothing."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # VACUUM runs outside transactions
        tables = conn.scalars(text("SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                                   "ORDER BY relname")).all()
        for table in tables:
            conn.execute(text(f'VACUUM (ANALYZE) "{table}"'))
    return list(tables)


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
