"""Duplicate groups: the same speech across sites, scripts, truncations and light edits.

Texts are compared in a folded form (simplified script, no punctuation or spaces, placeholders
unified). Each speech's 8-character shingles are hashed and a fixed 1-in-8 sample by hash value is
kept in the ``shingles`` table. Sampling by value, not by rank, keeps containment estimable: a
truncated copy shares nearly all of its sample with the full text even though their Jaccard is low.
The index lives in the database, so every new speech is checked against the whole archive.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import settings
from archive.compare import comparison_form
from archive.models import DupGroup, Shingle, Speech
from archive.reconstruct import reconstruct

SHINGLE = 8
SAMPLE_MOD = 8
def text_hash(text: str) -> str:
    return hashlib.sha256(comparison_form(text).encode()).hexdigest()


def sampled_shingles(text: str) -> set[int]:
    """Signed 64-bit hashes of the sampled shingles (short texts keep every shingle)."""
    form = comparison_form(text)
    hashes = {int.from_bytes(hashlib.blake2b(form[i:i + SHINGLE].encode(), digest_size=8).digest(), "big",
                             signed=True) for i in range(max(1, len(form) - SHINGLE + 1))}
    sampled = {h for h in hashes if h % SAMPLE_MOD == 0}
    return sampled if len(sampled) >= 8 else hashes


def _canonical_key(s: Speech) -> tuple:
    """Complete before truncated, clean before mojibake, simplified before converted, longest, earliest."""
    return (not s.truncated, not s.mojibake, s.script == "simplified", len(s.text), -s.captured_at.timestamp(), -s.id)


def choose_canonical(session: Session, group: DupGroup) -> None:
    """Pick the canonical copy; when even that one is incomplete, reconstruct from the others."""
    members = session.scalars(select(Speech).where(Speech.group_id == group.id)).all()
    group.size = len(members)
    group.canonical_id = max(members, key=_canonical_key).id if members else None
    group.reconstruction = None
    canonical = next((m for m in members if m.id == group.canonical_id), None)
    if canonical is None or not canonical.truncated or len(members) < 2:
        return
    same_script = [m for m in members if m.script == canonical.script and not m.mojibake]
    result = reconstruct([(m.id, list(m.paragraphs), [int(g["after_para"]) for g in m.gaps]) for m in same_script])
    if len(result.text) > len(canonical.text):
        group.reconstruction = {"paragraphs": result.paragraphs, "open_gaps": result.open_gaps,
                                "filled": result.filled, "chars": len(result.text)}


def index_speech(session: Session, speech: Speech) -> set[int]:
    """(Re)write the speech's shingles; return them."""
    session.query(Shingle).filter(Shingle.speech_id == speech.id).delete()
    hashes = sampled_shingles(speech.text)
    session.add_all(Shingle(speech_id=speech.id, hash=h) for h in hashes)
    speech.shingle_count = len(hashes)
    speech.text_hash = text_hash(speech.text)
    return hashes


def _candidates(session: Session, speech: Speech, hashes: set[int]) -> dict[int, int]:
    """Other speeches sharing sampled shingles with ``speech``: id → shared count."""
    shared: dict[int, int] = {}
    items = sorted(hashes)
    for i in range(0, len(items), 500):
        rows = session.execute(
            select(Shingle.speech_id, func.count()).where(Shingle.hash.in_(items[i:i + 500]),
                                                          Shingle.speech_id != speech.id)
            .group_by(Shingle.speech_id))
        for sid, n in rows:
            shared[sid] = shared.get(sid, 0) + n
    return shared


def assign_group(session: Session, speech: Speech) -> bool:
    """Put ``speech`` in the group of the texts it duplicates (merging groups it bridges).

    Returns True when it joined an existing group, i.e. it is a duplicate.
    """
    hashes = index_speech(session, speech)
    session.flush()
    threshold = float(settings.get("dedup_containment"))
    matches: set[int] = set()
    exact = session.scalars(select(Speech.group_id).where(Speech.text_hash == speech.text_hash,
                                                          Speech.id != speech.id)).all()
    matches.update(g for g in exact if g is not None)
    shared = _candidates(session, speech, hashes)
    if shared:
        counts = dict(session.execute(select(Speech.id, Speech.shingle_count).where(Speech.id.in_(shared))).all())
        groups = dict(session.execute(select(Speech.id, Speech.group_id).where(Speech.id.in_(shared))).all())
        for sid, n in shared.items():
            smaller = min(len(hashes), counts.get(sid) or 0) or 1
            if n / smaller >= threshold and groups.get(sid) is not None:
                matches.add(groups[sid])
    old_group = speech.group_id
    if matches:
        target = min(matches)
        for gid in matches - {target}:
            session.query(Speech).filter(Speech.group_id == gid).update({Speech.group_id: target})
            session.query(DupGroup).filter(DupGroup.id == gid).delete()
        speech.group_id = target
    elif speech.group_id is None or _shared_with_others(session, speech):
        group = DupGroup()
        session.add(group)
        session.flush()
        speech.group_id = group.id
    session.flush()
    for gid in {speech.group_id, old_group} - {None}:
        group = session.get(DupGroup, gid)
        if group is not None:
            choose_canonical(session, group)
            if group.size == 0:
                session.delete(group)
    return bool(matches)


def _shared_with_others(session: Session, speech: Speech) -> bool:
    """True when the speech's current group holds other members (a re-cleaned text left them)."""
    return bool(session.scalar(select(func.count()).where(Speech.group_id == speech.group_id,
                                                          Speech.id != speech.id)))


def rebuild(session: Session) -> int:
    """Drop all groups and regroup every speech in id order; returns the number of groups."""
    session.query(Speech).update({Speech.group_id: None})
    session.query(DupGroup).delete()
    session.query(Shingle).delete()
    for speech in session.scalars(select(Speech).order_by(Speech.id)).all():
        assign_group(session, speech)
    return session.scalar(select(func.count()).select_from(DupGroup)) or 0
