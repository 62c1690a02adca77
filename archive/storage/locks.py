"""Locks held in or beside the archive for as long as a process works: one scheduler per archive,
one crawl per source — whoever starts it, on whichever machine shares the archive.

PostgreSQL: a session advisory lock, held on a connection of its own (it goes with the process,
however the process ends). SQLite: ``flock`` on a file beside the archive (the kernel releases it
when the process dies), which records the holder's pid for the message a second process gets.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


class Busy(RuntimeError):
    """Another process holds the lock."""


def _key(scope: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` in ``scope``: advisory locks are per database
    cluster, so archives that share one (a schema each) must not share keys."""
    return int.from_bytes(hashlib.sha256(f"{scope}\0{name}".encode()).digest()[:8], "big", signed=True)


@contextmanager
def hold(db_url: str, name: str, busy: str | None = None) -> Iterator[None]:
    """Hold the archive's lock ``name`` for the block, or raise ``Busy``: ``busy`` (what the lock
    guards, said to the second process) and the holder."""
    busy = busy or f"{name} is held"
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":
        engine = create_engine(db_url)
        conn = engine.connect()
        try:
            scope = conn.scalar(text("SELECT current_database() || '.' || coalesce(current_schema(), '')"))
            if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(scope, name)}):
                raise Busy(f"{busy} by another process of this archive")
            yield
        finally:
            conn.close()  # the session ends, and with it the lock
            engine.dispose()
        return
    path = Path(f"{url.database}.{name.replace(':', '-').replace('/', '_')}-lock")
    with path.open("a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            raise Busy(f"{busy} by {fh.read().strip() or 'another process'} (lock {path})") from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}")
        fh.flush()
        yield
