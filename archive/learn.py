"""Feeding the learned cleaning layer from the archive: a site's recent speeches, by group."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.storage.models import Speech
from cleaners.learned import learn, line_keys

Known = dict[int, tuple[datetime, frozenset[str]]]  # speech id → (its updated_at, its line keys)


def site_boilerplate(session: Session, site: str, limit: int = 500, known: Known | None = None) -> frozenset[str]:
    """Lines that recur across many different speeches of ``site`` (its most recent ``limit``).

    ``known`` carries each speech's line keys from one reading of the site to the next (it is
    updated in place): only speeches new or changed since are read whole. A writer reads its
    sites again every few dozen pages, and reading 500 speeches' paragraphs each time was most of
    what learning cost."""
    known = {} if known is None else known
    recent = session.execute(select(Speech.id, Speech.group_id, Speech.updated_at).where(Speech.site == site)
                             .order_by(Speech.id.desc()).limit(limit)).all()
    stale = [r.id for r in recent if r.id not in known or known[r.id][0] != r.updated_at]
    # Lines already removed as learned chrome still count, so learning does not forget them once
    # the archive is clean of them.
    for sid, stamp, paragraphs, removals in session.execute(
            select(Speech.id, Speech.updated_at, Speech.paragraphs, Speech.removals).where(Speech.id.in_(stale))):
        known[sid] = (stamp, line_keys([*paragraphs, *(r["text"] for r in removals
                                                       if r["reason"] == "learned.boilerplate")]))
    for gone in known.keys() - {r.id for r in recent}:
        del known[gone]
    return learn((r.group_id if r.group_id is not None else -r.id, known[r.id][1]) for r in recent if r.id in known)
