"""Feeding the learned cleaning layer from the archive: a site's recent speeches, by group."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.storage.models import Speech
from cleaners.learned import learn


def site_boilerplate(session: Session, site: str, limit: int = 500) -> frozenset[str]:
    """Lines that recur across many different speeches of ``site`` (its most recent ``limit``)."""
    rows = session.execute(select(Speech.group_id, Speech.id, Speech.paragraphs, Speech.removals)
                           .where(Speech.site == site).order_by(Speech.id.desc()).limit(limit))
    # Lines already removed as learned chrome still count, so learning does not forget them once
    # the archive is clean of them.
    return learn((group if group is not None else -sid,
                  [*paragraphs, *(r["text"] for r in removals if r["reason"] == "learned.boilerplate")])
                 for group, sid, paragraphs, removals in rows)
