"""Rows in bulk, the fastest way each database takes them: inserts without ORM bookkeeping per
row, and lookups of a list of keys."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlalchemy import JSON, ColumnElement, Connection, Insert, Table, any_, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(column: ColumnElement, name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is in the list of integers bound as ``name`` at execution, as one parameter: an
    expanded ``IN`` renders and binds each value (300 postings a speech). PostgreSQL takes an array
    (``= ANY``: 2.8 ms → 1.2 a lookup); SQLite a JSON array it reads with ``json_each`` (2.0 → 1.6
    ms, and no statement rendered per call); elsewhere an expanded ``IN``."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    if dialect == "sqlite":
        return column.in_(select(func.json_each(bindparam(name, type_=JSON)).table_valued("value").c.value))
    return column.in_(bindparam(name, expanding=True))


def insert_many(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples of plain values, in the order of ``columns``) in bulk: by COPY on
    PostgreSQL, where a speech's 300 postings take 2.3 ms against 6.7 by executemany; by the
    driver's own executemany on SQLite, where SQLAlchemy's building each row's parameters made the
    same insert take 1.4–1.5 ms against 0.8–0.9; by SQLAlchemy's executemany elsewhere. Tuples, as
    the drivers take them: a dict per posting and a tuple of each took 0.2 ms a speech, 0.015 now."""
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        with conn.connection.dbapi_connection.cursor().copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                             rows)
        return
    conn.execute(table.insert(), [dict(zip(columns, row, strict=True)) for row in rows])


@cache
def _insert_new(table: Table, dialect: str) -> Insert:
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](table).on_conflict_do_nothing()


def insert_new(conn: Connection, table: Table, row: dict) -> None:
    """Insert ``row`` unless its key is there (stored before, or by another process meanwhile):
    one statement, where looking first and inserting in a savepoint took four."""
    conn.execute(_insert_new(table, conn.dialect.name), row)
