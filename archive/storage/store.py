"""Writing to the archive: sources, runs, raw captures and the speeches cleaned from them.

Storage only: cleaning and grouping happen in ``archive.ingest``, which calls these. Each function
does one unit of work inside the caller's session; the caller commits.
"""

from __future__ import annotations

import hashlib
import os
import socket
import zlib
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from archive.storage.bulk import insert_new
from archive.storage.models import Blob, Capture, CrawlRun, Source, Speech, search_text_of, utcnow
from cleaners import CleanResult


def ensure_source(session: Session, name: str, config: dict) -> Source:
    """The source's row, created if new; safe when several crawler processes start together."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:  # another process may insert it meanwhile: then theirs is ours
        insert_new(session.connection(), Source.__table__, {"name": name, "config": config})
        source = session.scalars(select(Source).where(Source.name == name)).one()
    source.config = config
    session.flush()
    return source


def start_run(session: Session, source: Source, shared_run: str | None = None) -> CrawlRun:
    """A new run of ``source`` (one process's part of ``shared_run``, if given); earlier runs of it
    left "running" by a process that died are closed."""
    close_dead_runs(session, source)
    run = CrawlRun(source_id=source.id, stats={"host": socket.gethostname(), "pid": os.getpid(),
                                               **({"shared_run": shared_run} if shared_run else {})})
    session.add(run)
    session.flush()
    return run


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def close_dead_runs(session: Session, source: Source) -> list[CrawlRun]:
    """Mark "interrupted" the source's runs whose crawler process on this host is gone (SIGKILL, a
    power cut): their pages are archived, and the next run fetches what they missed."""
    host = socket.gethostname()
    dead = [run for run in session.scalars(select(CrawlRun).where(CrawlRun.source_id == source.id,
                                                                 CrawlRun.status == "running"))
            if (run.stats or {}).get("host") == host and not _alive(int(run.stats.get("pid", 0)))]
    for run in dead:
        run.status = "interrupted"
        run.finished_at = utcnow()
        run.stats = {**run.stats, "interrupted": "the crawler process ended without closing the run"}
    return dead


def finish_run(session: Session, run: CrawlRun, status: str, stats: dict) -> None:
    run.status = status
    run.finished_at = utcnow()
    run.stats = {k: v for k, v in stats.items() if isinstance(v, (int, float, str))}


def store_blob(session: Session, body: bytes) -> str:
    """Store a body once, whoever fetched it first (content-addressed); its key."""
    digest = hashlib.sha256(body).hexdigest()
    insert_new(session.connection(), Blob.__table__, {"sha256": digest, "size": len(body),
                                                      "data": zlib.compress(body, 6)})
    return digest


def raw_body(capture: Capture) -> bytes:
    return unpack(capture.blob.data)


def unpack(data: bytes) -> bytes:
    """A stored blob's body."""
    return zlib.decompress(data)


@dataclass(frozen=True)
class Fetched:
    """One fetched page as the crawler saw it."""

    url: str
    final_url: str
    canonical_url: str
    status: int
    headers: dict[str, str]
    encoding: str
    body: bytes
    fetched_at: datetime


# The writer asks these of every page: built once, each costs 0.06 ms a call against 0.3 built each time
_SAME_BODY = (select(Capture.id, Capture.canonical_url, Capture.note)  # plain rows: no ORM objects
              .where(Capture.source_id == bindparam("source"), Capture.root_id.is_(None),
                     Capture.body_sha256 == bindparam("digest")).order_by(Capture.id))
# by URL alone in SQL: given the source too, SQLite (no statistics) may walk the source's every speech
_EARLIER = (select(Capture.fetched_at, Speech.id, Speech.index_in_page, Speech.source_id, Speech.capture_id)
            .join(Capture, Speech.capture_id == Capture.id).where(Speech.url == bindparam("url")))


def same_body(session: Session, source: Source, page: Fetched) -> list[Row]:
    """This source's stored pages (first parts) with exactly this body, oldest first, in one indexed
    lookup: under the page's own URL it is unchanged and a recrawl stores nothing twice; under
    another URL it is the same page reached by a second address, archived once."""
    digest = hashlib.sha256(page.body).hexdigest()
    return list(session.connection().execute(_SAME_BODY, {"source": source.id, "digest": digest}))


def save_capture(session: Session, source: Source, run: CrawlRun | None, page: Fetched,
                 root: Capture | None = None, part_index: int = 0) -> Capture:
    capture = Capture(source_id=source.id, run_id=run.id if run else None, url=page.url, final_url=page.final_url,
                      canonical_url=page.canonical_url, fetched_at=page.fetched_at, http_status=page.status,
                      headers=page.headers, encoding=page.encoding, body_sha256=store_blob(session, page.body),
                      root_id=root.id if root else None, part_index=part_index)
    session.add(capture)
    session.flush()
    return capture


@dataclass
class SaveOutcome:
    new: int = 0
    changed: int = 0  # speeches whose text differs from what was stored before (reclean, or a new version)
    unchanged: int = 0  # speeches of a refetched page whose text was already archived
    duplicates: int = 0
    flagged: int = 0
    chars: int = 0  # characters in the new speeches (run health: mean speech length)


def latest_versions(session: Session, capture: Capture) -> dict[int, Speech]:
    """The newest stored speeches of this capture's URL from earlier captures, by place in the page."""
    # plain rows first, as most URLs have no earlier speech, and only the latest are read whole
    rows = session.connection().execute(_EARLIER, {"url": capture.canonical_url})
    mine = sorted((r.fetched_at, r.id, r.index_in_page) for r in rows
                  if r.source_id == capture.source_id and r.capture_id != capture.id)
    latest = {index: sid for _, sid, index in mine}  # later captures overwrite earlier ones
    return {index: session.get(Speech, sid) for index, sid in latest.items()}


@dataclass
class Saved:
    outcome: SaveOutcome
    written: list[Speech] = field(default_factory=list)  # new, or changed as grouping reads them: to group, in order
    orphaned: set[int] = field(default_factory=set)  # groups that lost a member: to choose their canonical again


_OF_CAPTURE = select(Speech).where(Speech.capture_id == bindparam("capture"))  # built once (reclean asks it of every page)


def save_speeches(session: Session, capture: Capture, result: CleanResult, site: str, fresh: bool = False) -> Saved:
    """Write the speeches of a cleaned page, updating those already stored for this capture
    (none, when it is ``fresh``: never cleaned before).

    A new capture of a URL archived before (a recrawl found the page changed) stores only the
    speeches whose title or text changed, each linked to its earlier version; the rest are already
    archived and are counted as unchanged."""
    outcome = SaveOutcome()
    saved = Saved(outcome)
    _update(capture, {"note": f"not_prose: {'; '.join(result.rejected)}"[:300]
                      if result.rejected and not result.speeches else None})
    existing = {} if fresh else {s.index_in_page: s for s in session.scalars(_OF_CAPTURE, {"capture": capture.id})}
    pieces = [existing.pop(i) for i in list(existing) if i < 0]  # cut from a compilation by its copies:
    for piece in pieces:                                           # cut anew (by grouping) if it still is one
        _drop(session, piece, saved)
    earlier = {} if existing else latest_versions(session, capture)
    removals = [{"reason": r.reason, "text": r.text[:500]} for r in result.removals]
    for sp in result.speeches:
        fields = dict(
            source_id=capture.source_id, site=result.site_name or site, url=capture.canonical_url,
            title=sp.title, text=sp.text, paragraphs=sp.paragraphs, speaker=sp.meta.speaker,
            speech_date=sp.meta.speech_date, publish_date=result.publish_date, occasion=sp.meta.occasion,
            region=result.region, outline=sp.meta.outline, truncated=sp.truncated, stated_length=sp.stated_length,
            gaps=sp.gaps, mojibake=sp.mojibake, needs_review=result.needs_review, script=sp.script,
            cleaner_version=result.cleaner_version, removals=removals if sp.index == 0 else [],
            captured_at=capture.fetched_at)
        row = existing.pop(sp.index, None)
        before = earlier.get(sp.index)
        if row is None and before is not None and (before.title, before.text) == (sp.title, sp.text):
            outcome.unchanged += 1
            continue
        grouped = False
        if row is None or (row.title, row.text, row.speaker) != (sp.title, sp.text, sp.meta.speaker):
            # folded from these three alone (every writer keeps it so): a stored speech's stands while they do
            fields["search_text"] = search_text_of(sp.title, sp.text, sp.meta.speaker)
        if row is None:
            row = Speech(capture_id=capture.id, index_in_page=sp.index, text_hash="",
                         previous_id=before.id if before is not None else None, **fields)
            session.add(row)
            outcome.changed += before is not None
            outcome.new += 1
            outcome.chars += len(sp.text)
            session.flush()
        else:
            if row.text != sp.text:
                outcome.changed += 1
            # what grouping reads is as it was (copy-made marks would differ): its group stands
            grouped = not pieces and row.group_id is not None and \
                (row.text, row.truncated, row.gaps) == (sp.text, sp.truncated, sp.gaps)
            if _update(row, fields):
                session.flush()
        if row.needs_review or row.mojibake:
            outcome.flagged += 1
        if not grouped:
            saved.written.append(row)
    for stale in existing.values():  # the page now holds fewer speeches than before
        _drop(session, stale, saved)
    return saved


def _update(row: Speech | Capture, fields: dict) -> bool:
    """Set the fields whose value differs; whether any did. Setting an equal value still makes the
    row dirty, and the flush walks it: a reclean that changes nothing spent a sixth of its writing on that."""
    changed = {k: v for k, v in fields.items() if getattr(row, k) != v}
    for k, v in changed.items():
        setattr(row, k, v)
    return bool(changed)


def _drop(session: Session, speech: Speech, saved: Saved) -> None:
    """Delete a speech; its group is left to choose its canonical copy again."""
    if speech.group_id:
        saved.orphaned.add(speech.group_id)
    session.delete(speech)
    session.flush()
