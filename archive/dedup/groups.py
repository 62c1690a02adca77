"""Inspecting duplicate groups and versions: each copy's differences from the canonical text, and
each version of a speech (a recrawl found its page changed) against the one before.

Differences are computed on the simplified form of both texts, so a traditional copy shows only
what really differs (a cut, an edit), not every character of the script conversion.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.storage.models import DupGroup, Speech
from cleaners.chars import to_simplified


@dataclass(frozen=True)
class Member:
    speech: Speech
    canonical: bool
    diff: list[str]  # unified-diff lines against the canonical text; empty for the canonical itself


def members(session: Session, group_id: int, context: int = 1) -> list[Member]:
    group = session.get(DupGroup, group_id)
    if group is None:
        raise ValueError(f"no duplicate group {group_id}")
    speeches = session.scalars(select(Speech).where(Speech.group_id == group_id).order_by(Speech.id)).all()
    canonical = next((s for s in speeches if s.id == group.canonical_id), speeches[0])
    reference = [to_simplified(p) for p in canonical.paragraphs]
    out = []
    for s in speeches:
        if s.id == canonical.id:
            out.append(Member(s, True, []))
            continue
        diff = difflib.unified_diff(reference, [to_simplified(p) for p in s.paragraphs], f"#{canonical.id}",
                                    f"#{s.id}", n=context, lineterm="")
        out.append(Member(s, False, list(diff)))
    return out


@dataclass(frozen=True)
class Version:
    speech: Speech
    diff: list[str]  # unified-diff lines against the version before; empty for the first


def versions(session: Session, speech_id: int, context: int = 1) -> list[Version]:
    """Every version of the speech at its URL, oldest first, each with its diff from the one before."""
    speech = session.get(Speech, speech_id)
    if speech is None:
        raise ValueError(f"no speech {speech_id}")
    chain = [speech]
    while chain[0].previous_id is not None:  # back to the first version
        chain.insert(0, session.get(Speech, chain[0].previous_id))
    while (newer := session.scalar(select(Speech).where(Speech.previous_id == chain[-1].id).limit(1))) is not None:
        chain.append(newer)
    out = [Version(chain[0], [])]
    for before, after in zip(chain, chain[1:], strict=False):
        old, new = [before.title, *before.paragraphs], [after.title, *after.paragraphs]
        out.append(Version(after, list(difflib.unified_diff(old, new, f"#{before.id}", f"#{after.id}",
                                                            n=context, lineterm=""))))
    return out
