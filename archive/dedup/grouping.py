"""Duplicate groups: the same speech across sites, scripts, truncations and light edits.

Each speech's sketch (``archive.dedup.sketch``: a mod-8 sample of its 8-character shingle hashes) goes
into the ``shingles`` table, an inverted index that lives in the archive, so every new speech is
checked against everything stored, across runs and processes. A speech joins the group of any text
holding at least ``dedup_containment`` of the smaller sketch; groups it bridges are merged. That
relation is symmetric and checked for every pair, so the groups are the connected components of
"shares enough", whatever the order speeches arrive in — which is what lets ``rebuild`` compute
them in one batch and still agree with the incremental path.

Each shingle's posting list keeps only its first ``POSTING_CAP`` holders (lowest ids): finding one
member of a group is enough to join it, and stock phrases that occur in thousands of speeches stay
cheap to look up.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache

import numpy as np
from sqlalchemy import JSON, Executable, Row, Select, bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

import settings
from archive.ahead import Ahead
from archive.dedup.compare import COPY_GAP, comparison_form, lacks_stretches, stops_early, with_copy_gaps
from archive.dedup.consensus import Copy, cut, insertions
from archive.dedup.reconstruct import reconstruct
from archive.dedup.resplit import Piece, cut_at_copies
from archive.dedup.sketch import sampled_in_order, sketch_of_form
from archive.storage.bulk import insert_many, one_of
from archive.storage.models import DupGroup, Shingle, Speech, search_text_of
from cleaners.chars import script_of

POSTING_CAP = 32
_POSTING = ("speech_id", "hash")  # a posting's columns, as insert_many takes its rows
_PAIR_BUDGET = 1_000_000  # shared-shingle pairs counted at once by rebuild (~60 MB of arrays)
_LOCK_KEY = 0x5EEC4_D0D  # PostgreSQL advisory lock held while groups change


def in_text_order(text: str) -> np.ndarray:
    """The text's sketch hashes where they occur: where it lies in a text that holds it."""
    return sampled_in_order(comparison_form(text))


def _fingerprint(text: str) -> tuple[np.ndarray, str]:
    form = comparison_form(text)
    return sketch_of_form(form), hashlib.sha256(form.encode()).hexdigest()


fingerprint = Ahead(_fingerprint)
"""The text's sketch and exact-duplicate hash, from one comparison form (a new speech's computed
ahead by the cleaning pool)."""


class DisjointSets:
    """Union-find over positions 0..n-1; each set is named by its smallest member."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def sets(self) -> list[list[int]]:
        members: dict[int, list[int]] = {}
        for x in range(len(self.parent)):
            members.setdefault(self.find(x), []).append(x)
        return list(members.values())


def lock_groups(session: Session) -> None:
    """Serialise group changes across crawler processes until this transaction ends.

    Without it two processes archiving copies of one speech at once each miss the other's
    uncommitted copy and open two groups. SQLite needs nothing: its writer lock, held since the
    speech row was written, already serialises whole transactions.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _canonical_key(s: Speech | Row, superseded: set[int]) -> tuple:
    """Current before superseded versions, complete before truncated, clean before mojibake,
    simplified before converted, longest, earliest."""
    return (s.id not in superseded, not s.truncated, not s.mojibake, s.script == "simplified", len(s.text),
            -s.captured_at.timestamp(), -s.id)


def _by_copies_only(s: Speech | Row) -> bool:
    """Marked truncated only because a fuller copy showed it (no page said so)."""
    return bool(s.truncated and s.gaps) and all(g.get("kind") == COPY_GAP for g in s.gaps)


def is_whole(s: Speech | Row) -> bool:
    """Whole as its page gave it. What its copies show must not decide grouping: that changes
    with the order copies arrive in."""
    return not s.truncated or _by_copies_only(s)


def _superseded(session: Session, ids: list[int] | None = None) -> set[int]:
    """Speeches a recrawl found a newer version of (among ``ids``, or all)."""
    stmt = select(Speech.previous_id).where(Speech.previous_id.is_not(None))
    return set(session.scalars(stmt if ids is None else stmt.where(Speech.previous_id.in_(ids))))


SAME_DOCUMENT = 0.9  # a text holding this share of a larger one is a copy of it, not a part
HELD_LIMIT = 20  # texts held by one speech read to tell a compilation (the first by id)
CONTIGUOUS = 0.8  # a held text lies in one stretch when it is this share of the stretch
OVERLAP = 0.1  # stretches overlapping by less than this share of the later one are apart
CONSENSUS_LIMIT = 20  # copies of one group read against each other (the first by id); more add little


def mark_early_stops(members: list[Speech]) -> None:
    """Copies that stop where a fuller copy of the group goes on, or lack a stretch two others hold,
    are truncated (gapped, with where), though no page said so."""
    if len(members) < 2:
        beyond, lacking = {}, {}
    else:  # each paragraph's comparison form once; the text's is their concatenation
        forms = {m.id: [comparison_form(p) for p in m.paragraphs or []] for m in members}
        beyond = stops_early({sid: "".join(f) for sid, f in forms.items()})
        lacking = lacks_stretches({m.id: forms[m.id] for m in sorted(members, key=lambda m: m.id)[:CONSENSUS_LIMIT]})
    for m in members:
        end = len(m.paragraphs or [])
        inside = [(at, n) for at, n in lacking.get(m.id, []) if not (m.id in beyond and at == end)]  # one end gap
        gaps = with_copy_gaps(list(m.gaps or []), end, beyond.get(m.id), inside)
        if gaps != (m.gaps or []):
            m.gaps, m.truncated = gaps, bool(gaps) or (m.truncated and not _by_copies_only(m))


def apply_consensus(members: list[Speech]) -> list[Speech]:
    """Cut from each copy what its other copies read straight through (``archive.dedup.consensus``);
    return the copies whose text changed."""
    eligible = sorted(members, key=lambda m: m.id)[:CONSENSUS_LIMIT]
    if len(eligible) < 2:
        return []
    found = insertions([Copy(m.id, m.site, m.text) for m in eligible], int(settings.get("consensus_max_span")))
    changed = []
    for m in eligible:
        if m.id not in found:
            continue
        text, pieces = cut(m.text, found[m.id])
        m.text, m.paragraphs = text, text.split("\n")
        m.search_text = search_text_of(m.title, text, m.speaker)
        m.removals = [*(m.removals or []), *({"reason": "consensus", "text": p} for p in pieces)]
        changed.append(m)
    return changed


def choose_canonical(session: Session, group: DupGroup) -> None:
    """Pick the canonical copy (after consensus cleaning and marking the copies that stop early);
    when even that one is incomplete, reconstruct from the others."""
    members = session.scalars(select(Speech).where(Speech.group_id == group.id)).all()
    for changed in apply_consensus(members):
        index_speech(session, changed)
    mark_early_stops(members)
    group.size = len(members)
    superseded = _superseded(session, [m.id for m in members])
    group.canonical_id = max(members, key=lambda m: _canonical_key(m, superseded)).id if members else None
    group.reconstruction = None
    canonical = next((m for m in members if m.id == group.canonical_id), None)
    if canonical is None or not canonical.truncated or len(members) < 2:
        return
    same_script = [m for m in members if m.script == canonical.script and not m.mojibake]
    result = reconstruct([(m.id, list(m.paragraphs), [int(g["after_para"]) for g in m.gaps]) for m in same_script])
    if len(result.text) > len(canonical.text):
        group.reconstruction = {"paragraphs": result.paragraphs, "open_gaps": result.open_gaps,
                                "filled": result.filled, "chars": len(result.text)}


def regroup_after_drop(session: Session, gid: int) -> None:
    """A group that lost a member chooses its canonical copy again, or goes if it was the last."""
    group = session.get(DupGroup, gid)
    if group is not None:
        choose_canonical(session, group)
        if group.size == 0:
            session.delete(group)


def _chunks(items: list[int], size: int = 500) -> Iterable[list[int]]:
    return (items[i:i + size] for i in range(0, len(items), size))


@cache  # compiled once per dialect: the lists are bound at execution (no per-value coercion)
def _lookups(dialect: str) -> tuple[Select, Executable, Executable]:
    """The postings of a list of hashes; the rows grouping reads of a list of speeches, and of
    those among them no longer than ``most`` shingles."""
    holders = select(Shingle.hash, Shingle.speech_id).where(one_of(Shingle.hash, "hashes", dialect))
    read = (Speech.id, Speech.shingle_count, Speech.group_id, Speech.compilation, Speech.truncated, Speech.gaps)
    if dialect == "sqlite":  # from the index that covers them (migration 0017), named: SQLite would
        # look each id up in the table, whose rows hold these columns after the text, on overflow pages
        matched = (f"SELECT {', '.join(c.key for c in read)} FROM speeches INDEXED BY ix_speeches_grouping "
                   "WHERE id IN (SELECT value FROM json_each(:ids))")
        return holders, *(text(sql).bindparams(bindparam("ids", type_=JSON)).columns(*read)
                          for sql in (matched, matched + " AND shingle_count <= :most"))
    matched = select(*read).where(one_of(Speech.id, "ids", dialect))
    return holders, matched, matched.where(Speech.shingle_count <= bindparam("most"))


def _holders(session: Session, hashes: list[int]) -> list[tuple[int, int]]:
    """(hash, speech id) of every stored posting of these hashes."""
    stmt = _lookups(session.get_bind().dialect.name)[0]
    conn = session.connection()  # plain rows, without the ORM's execution layer
    return [row for chunk in _chunks(hashes) for row in conn.execute(stmt, {"hashes": chunk})]


def _shared(holders: list[tuple[int, int]], speech: Speech) -> dict[int, int]:
    """Other speeches in the posting lists: id → shared count."""
    return dict(Counter(sid for _, sid in holders if sid != speech.id))


def _candidates(session: Session, shared: dict[int, int], size: int, threshold: float) -> dict[int, Row]:
    """The rows of the speeches in ``shared`` (id → shingles shared) that may hold ``threshold`` of
    the smaller text's shingles, and maybe more, never fewer. One sharing ``threshold × size`` does
    whatever its length; one sharing ``n`` fewer can only if its own count is at most ``n / threshold``
    (it holds all ``n``), so of those only the short ones are read. As an archive grows, common
    phrases put thousands of speeches in ``shared``: reading them all made each page slower."""
    sure, maybe = [], []
    for sid, n in shared.items():
        (sure if n / (size or 1) >= threshold else maybe).append(sid)
    _, matched, short = _lookups(session.get_bind().dialect.name)
    rows = {r.id: r for chunk in _chunks(sure) for r in session.execute(matched, {"ids": chunk})}
    if maybe:
        most = max(shared[sid] for sid in maybe) / threshold + 1  # + 1: no rounding leaves one out
        for chunk in _chunks(maybe):
            rows.update((r.id, r) for r in session.execute(short, {"ids": chunk, "most": most}))
    return rows


def index_speech(session: Session, speech: Speech) -> tuple[list[int], dict[int, int]]:
    """(Re)write the speech's postings, skipping shingles whose list is full; return its sketch and
    the other speeches sharing its shingles (id → count), read in the same lookup."""
    if speech.text_hash:  # indexed before (a new speech is stored without): its old postings go
        session.execute(delete(Shingle).where(Shingle.speech_id == speech.id))
    sampled, digest = fingerprint(speech.text)
    hashes = sampled.tolist()
    holders = _holders(session, hashes)
    sid = speech.id
    full = {h for h, n in Counter(h for h, other in holders if other != sid).items() if n >= POSTING_CAP}
    postings = [(sid, h) for h in hashes if h not in full]
    insert_many(session.connection(), Shingle.__table__, _POSTING, postings)  # no ORM bookkeeping per row
    speech.shingle_count = len(hashes)
    speech.text_hash = digest
    return hashes, _shared(holders, speech)


# asked for every new speech: built once (0.06 ms a call against 0.3 built each time)
_SAME_TEXT = select(Speech.group_id).where(Speech.text_hash == bindparam("hash"), Speech.id != bindparam("id"))
_NEW_GROUP = insert(DupGroup).values(size=1, canonical_id=bindparam("canonical"))


def assign_group(session: Session, speech: Speech) -> bool:
    """Put ``speech`` in the group of the texts it duplicates (merging groups it bridges).

    Returns True when it joined an existing group, i.e. it is a duplicate.
    """
    lock_groups(session)
    session.flush()  # what earlier speeches were given (their groups) is read below
    # the lookups leave the speech's new hash and count unwritten: a new speech with no copy gets
    # them in one update with its group (its row holds its whole text: each update rewrites it)
    with session.no_autoflush:
        hashes, shared = index_speech(session, speech)
        threshold = float(settings.get("dedup_containment"))
        matches: set[int] = set()
        exact = session.scalars(_SAME_TEXT, {"hash": speech.text_hash, "id": speech.id}).all()
        matches.update(g for g in exact if g is not None)
        held = False  # a text lying in another one way may show a compilation: regroup by the batch rule
        if shared:
            rows = _candidates(session, shared, len(hashes), threshold)
            for sid, n in shared.items():
                row = rows.get(sid)
                if row is None or row.group_id is None or \
                        n / (min(len(hashes), row.shingle_count or 0) or 1) < threshold:
                    continue
                matches.add(row.group_id)
                if row.compilation or n / (max(len(hashes), row.shingle_count or 0) or 1) < SAME_DOCUMENT and \
                        is_whole(row if len(hashes) >= (row.shingle_count or 0) else speech):
                    held = True
    old_group = speech.group_id
    if not held and not matches and old_group is None and speech.previous_id is None:
        _alone(session, speech)  # most speeches: a new text with no copy yet
        return False
    session.flush()
    if held:
        return _regroup(session, speech, matches | ({old_group} - {None}))
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
    if matches:  # a speech with no copy has no seam to correct
        _fix_seams_around(session, speech)
    return bool(matches)


def _alone(session: Session, speech: Speech) -> None:
    """A group of one new speech: it is its own canonical copy, and no copy tells it anything
    (``choose_canonical`` of one new member, without reading it back)."""
    new = session.connection().execute(_NEW_GROUP, {"canonical": speech.id})  # no flush
    speech.group_id = new.inserted_primary_key[0]


def _regroup(session: Session, speech: Speech, gids: set[int]) -> bool:
    """Group ``speech`` and the groups it touches anew, by the batch rule (``group_sketches``).

    Taken when a text sits inside another one way: the larger may turn out to hold two unrelated
    speeches (a compilation), and then it must stop bridging their groups — which can split a group
    formed before that was known.
    """
    members = session.scalars(select(Speech).where(or_(Speech.group_id.in_(gids), Speech.id == speech.id))
                              .order_by(Speech.id)).all()
    prints = [fingerprint(m.text) for m in members]
    _, _, components, holds = group_sketches(
        np.concatenate([p[0] for p in prints]), np.asarray([len(p[0]) for p in prints], dtype=np.int64),
        [p[1] for p in prints], float(settings.get("dedup_containment")),
        complete=np.asarray([is_whole(m) for m in members], dtype=bool),
        known=np.asarray([m.compilation for m in members], dtype=bool),
        in_order=lambda x: in_text_order(members[x].text))
    before: dict[int, set[int]] = {}
    for k, m in enumerate(members):
        before.setdefault(m.group_id, set()).add(k)
    kept = {gid for gid, ks in before.items() if gid is not None and set(ks) in map(set, components)}
    free = sorted(gids - kept)
    touched = []
    for component in sorted(components, key=min):
        gid = members[component[0]].group_id
        if gid in kept and set(component) == before[gid]:
            continue  # the same members as before: nothing to choose again
        group = session.get(DupGroup, free.pop(0)) if free else DupGroup()
        session.add(group)
        session.flush()
        for m in component:
            members[m].group_id = group.id
        touched.append(group)
    for m, compilation in zip(members, holds.tolist(), strict=True):
        if compilation and not m.compilation:
            m.compilation = m.needs_review = True
    session.flush()
    for gid in free:
        session.query(DupGroup).filter(DupGroup.id == gid).delete()
    for group in touched:
        choose_canonical(session, group)
    mine = next(c for c in components if members.index(speech) in c)
    for m in [m for m in members if m.compilation]:
        split_by_copies(session, m)
    _fix_seams_around(session, speech)
    return len(mine) > 1


def split_by_copies(session: Session, speech: Speech) -> list[Speech]:
    """Cut a compilation at the bounds of the speeches it holds (``archive.dedup.resplit``): each piece
    becomes a speech of its own, a new version of the compilation (``previous_id``) with the reason
    in its removals, grouped with its copies. Once per compilation; ``reclean`` cuts anew."""
    if _has_version(session, speech):
        return []
    hashes = fingerprint(speech.text)[0].tolist()
    shared = _shared(_holders(session, hashes), speech)
    threshold = float(settings.get("dedup_containment"))
    rows = session.scalars(select(Speech).where(Speech.id.in_(shared), ~Speech.compilation).order_by(Speech.id)).all()
    held = [r for r in rows if is_whole(r) and r.shingle_count and r.shingle_count < len(hashes)
            and shared[r.id] / r.shingle_count >= threshold and shared[r.id] / len(hashes) < SAME_DOCUMENT]
    pieces = cut_at_copies(list(speech.paragraphs), [list(r.paragraphs) for r in held],
                           int(settings.get("min_speech_chars")))
    if not pieces:
        return []
    made = [_version(session, speech, piece, k, held[piece.copy] if piece.copy is not None else None)
            for k, piece in enumerate(pieces)]
    for row in made:
        assign_group(session, row)
    return made


def _version(session: Session, of: Speech, piece: Piece, k: int, copy: Speech | None) -> Speech:
    """A piece of ``of`` cut at a copy's bounds, stored as a new version of it (reason in its removals)."""
    title = piece.title or (copy.title if copy is not None else of.title)
    text = "\n".join(piece.paragraphs)
    speaker = copy.speaker if copy is not None else None
    row = Speech(
        capture_id=of.capture_id, source_id=of.source_id,
        index_in_page=-(abs(of.index_in_page) * 100 + k + 1),  # below zero: cut by copies, not by the cleaner
        site=of.site, url=of.url, title=title, text=text, paragraphs=piece.paragraphs,
        speaker=speaker, speech_date=copy.speech_date if copy is not None else None,
        occasion=copy.occasion if copy is not None else None, publish_date=of.publish_date, region=of.region,
        outline=[], truncated=False, gaps=[], mojibake=of.mojibake, needs_review=False, script=script_of(text),
        cleaner_version=of.cleaner_version, search_text=search_text_of(title, text, speaker),
        removals=[{"reason": "split.copies", "text": ""}], text_hash="", previous_id=of.id, captured_at=of.captured_at)
    session.add(row)
    session.flush()
    return row


def _has_version(session: Session, speech: Speech) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Speech).where(Speech.previous_id == speech.id)))


def _copy_elsewhere(session: Session, speech: Speech) -> Speech | None:
    """A whole copy of the speech from another page, to take its bounds from (the first by id)."""
    if speech.group_id is None:
        return None
    copies = session.scalars(select(Speech).where(Speech.group_id == speech.group_id,
                                                  Speech.capture_id != speech.capture_id, ~Speech.compilation)
                             .order_by(Speech.id).limit(CONSENSUS_LIMIT))
    return next((c for c in copies if is_whole(c)), None)  # whole as its page gave it: its copies may mark it


def _fix_seams_around(session: Session, speech: Speech) -> None:
    """``fix_seams`` for the speech and for its group's members that share a page with others."""
    fix_seams(session, speech)
    if speech.group_id is None:
        return
    others = session.scalars(select(Speech).where(Speech.group_id == speech.group_id, Speech.index_in_page >= 0,
                                                  Speech.capture_id != speech.capture_id)
                             .order_by(Speech.id).limit(CONSENSUS_LIMIT)).all()
    shared_pages = set(session.scalars(select(Speech.capture_id).where(
        Speech.capture_id.in_({o.capture_id for o in others}), Speech.index_in_page >= 1))) if others else set()
    for other in others:
        if other.capture_id in shared_pages:
            fix_seams(session, other)


def fix_seams(session: Session, speech: Speech) -> list[Speech]:
    """Move the seams between ``speech`` and its neighbours on the page to where their copies on
    other pages put them: the splitter cut a title, a salutation or a closing onto the wrong side.
    The two speeches get new versions cut right, grouped with their copies."""
    if speech.index_in_page < 0:
        return []
    neighbours = {s.index_in_page: s for s in session.scalars(select(Speech).where(
        Speech.capture_id == speech.capture_id, Speech.index_in_page.in_([speech.index_in_page - 1,
                                                                         speech.index_in_page + 1])))}
    if not neighbours or _has_version(session, speech):
        return []
    made: list[Speech] = []
    for a, b in ((neighbours.get(speech.index_in_page - 1), speech), (speech, neighbours.get(speech.index_in_page + 1))):
        if a is None or b is None or _has_version(session, a if b is speech else b):
            continue
        copies = [_copy_elsewhere(session, a), _copy_elsewhere(session, b)]
        if None in copies:
            continue
        pieces = cut_at_copies([*a.paragraphs, *b.paragraphs], [list(c.paragraphs) for c in copies],
                               int(settings.get("min_speech_chars")))
        if pieces is None or [p.copy for p in pieces] != [0, 1] or pieces[0].paragraphs == list(a.paragraphs):
            continue
        made += [_version(session, a, Piece(pieces[0].title or a.title, pieces[0].paragraphs, 0), 1, copies[0]),
                 _version(session, b, Piece(pieces[1].title or b.title, pieces[1].paragraphs, 1), 1, copies[1])]
        break
    for row in made:
        assign_group(session, row)
    return made


def _shared_with_others(session: Session, speech: Speech) -> bool:
    """True when the speech's current group holds other members (a re-cleaned text left them)."""
    return bool(session.scalar(select(func.count()).where(Speech.group_id == speech.group_id,
                                                          Speech.id != speech.id)))


def rebuild(session: Session, progress: Callable[[str, int, int], None] | None = None,
            superseded: set[int] | None = None) -> int:
    """Regroup every speech from scratch in one batch; returns the number of groups.

    Gives the groups the incremental path gives (same sketches, same capped postings, same
    threshold), at a fraction of its cost: all pairs are counted at once with numpy. ``superseded``
    (default: read from the archive) is for migrations that run before speeches had versions.
    """
    lock_groups(session)
    report = progress or (lambda _stage, _done, _total: None)
    total = session.scalar(select(func.count()).select_from(Speech)) or 0
    ids: list[int] = []
    sketches: list[np.ndarray] = []
    lengths: list[int] = []
    keys: list[tuple] = []
    hashes: list[str] = []
    whole: list[bool] = []
    superseded = _superseded(session) if superseded is None else superseded
    stmt = select(Speech.id, Speech.text, Speech.truncated, Speech.gaps, Speech.mojibake, Speech.script,
                  Speech.captured_at)
    for n, row in enumerate(session.execute(stmt.order_by(Speech.id).execution_options(yield_per=1000)), 1):
        ids.append(row.id)
        whole.append(is_whole(row))
        sampled, digest = fingerprint(row.text)
        sketches.append(sampled)
        lengths.append(len(sampled))
        hashes.append(digest)
        keys.append(_canonical_key(row, superseded))
        if n % 1000 == 0:
            report("sketching", n, total)
    all_h = np.concatenate(sketches) if sketches else np.zeros(0, dtype=np.int64)
    del sketches
    postings_h, postings_i, components, holds = group_sketches(
        all_h, np.asarray(lengths, dtype=np.int64), hashes, float(settings.get("dedup_containment")),
        complete=np.asarray(whole, dtype=bool),
        in_order=lambda x: in_text_order(session.scalar(select(Speech.text).where(Speech.id == ids[x]))))
    del all_h
    report("grouping", total, total)

    session.execute(update(Speech).values(group_id=None, compilation=False))
    session.execute(delete(DupGroup))
    session.execute(delete(Shingle))
    id_array = np.asarray(ids, dtype=np.int64)
    for start in range(0, len(postings_h), 20000):
        insert_many(session.connection(), Shingle.__table__, _POSTING,
                    list(zip(id_array[postings_i[start:start + 20000]].tolist(), postings_h[start:start + 20000].tolist(),
                             strict=True)))
        report("indexing", min(start + 20000, len(postings_h)), len(postings_h))
    _copy_evidence(session, ids, components, keys, superseded, report)
    groups = [DupGroup(size=len(members)) for members in components]
    session.add_all(groups)
    session.flush()
    rows = []
    incomplete = []  # groups whose best copy is truncated: reconstruction may fill it
    for group, members in zip(groups, components, strict=True):
        best = max(members, key=keys.__getitem__)
        group.canonical_id = ids[best]
        rows.extend({"id": ids[m], "group_id": group.id, "shingle_count": lengths[m], "text_hash": hashes[m]}
                    for m in members)
        if len(members) > 1 and not keys[best][0]:
            incomplete.append(group)
    for start in range(0, len(rows), 5000):
        session.execute(update(Speech), rows[start:start + 5000])
    for chunk in _chunks([ids[m] for m in np.flatnonzero(holds).tolist()]):
        session.execute(update(Speech).where(Speech.id.in_(chunk)).values(compilation=True, needs_review=True))
    session.flush()
    for group in incomplete:
        choose_canonical(session, group)
    with_copies = [ids[m] for members in components if len(members) > 1 for m in members]
    _cut_at_copies(session, [ids[m] for m in np.flatnonzero(holds).tolist()], with_copies, report)
    session.expire_all()
    return len(groups)


def _cut_at_copies(session: Session, compilations: list[int], with_copies: list[int],
                   report: Callable[[str, int, int], None]) -> None:
    """Compilations cut at the bounds of what they hold; then speeches sharing a page, whose copies
    elsewhere may put their seams elsewhere (only those with copies can be corrected)."""
    for chunk in _chunks(compilations):
        for compilation in session.scalars(select(Speech).where(Speech.id.in_(chunk))).all():
            split_by_copies(session, compilation)
    shared_page = select(Speech.capture_id).where(Speech.index_in_page >= 1)
    done = 0
    for chunk in _chunks(sorted(with_copies)):
        for segment in session.scalars(select(Speech).where(Speech.id.in_(chunk), Speech.index_in_page >= 0,
                                                            Speech.capture_id.in_(shared_page))).all():
            fix_seams(session, segment)
        done += len(chunk)
        report("cutting", done, len(with_copies))


def _copy_evidence(session: Session, ids: list[int], components: list[list[int]], keys: list[tuple],
                   superseded: set[int], report: Callable[[str, int, int], None]) -> None:
    """Consensus and ``mark_early_stops`` for every group of several copies, in batches; canonical
    keys follow."""
    multi = [members for members in components if len(members) > 1]
    for start in range(0, len(multi), 200):
        batch = multi[start:start + 200]
        wanted = [ids[m] for members in batch for m in members]
        rows = {r.id: r for r in session.scalars(select(Speech).where(Speech.id.in_(wanted)))}
        for members in batch:
            copies = [rows[ids[m]] for m in members]
            for changed in apply_consensus(copies):
                index_speech(session, changed)
            mark_early_stops(copies)
            for m, copy in zip(members, copies, strict=True):
                keys[m] = _canonical_key(copy, superseded)
        session.flush()
        report("copies", start + len(batch), len(multi))


def group_sketches(all_h: np.ndarray, lengths: np.ndarray, hashes: list[str], threshold: float,
                   cap: int | None = None, complete: np.ndarray | None = None,
                   known: np.ndarray | None = None, in_order: Callable[[int], np.ndarray] | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, list[list[int]], np.ndarray]:
    """Groups of speeches (by position) from their concatenated sketches: capped postings,
    components, and which speeches are compilations (``compilations``).

    For each shingle the earliest ``cap`` holders form its posting list; every later holder counts
    one shared shingle with each of them — exactly what the incremental lookup counts. ``complete``
    (default all) says which speeches are whole (not truncated); ``known`` which are compilations
    already.
    """
    cap = cap or POSTING_CAP
    n = len(lengths)
    order = np.argsort(all_h, kind="stable")  # stable: holders stay in id order within a shingle
    h = all_h[order]
    i = np.repeat(np.arange(n, dtype=np.int32), lengths)[order]
    where = np.empty(len(order), dtype=np.int64)  # speech order → sorted position
    where[order] = np.arange(len(order))
    del order
    offsets = np.r_[0, np.cumsum(lengths)]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]]).astype(np.int32) if len(h) else np.zeros(0, np.int32)
    bucket_start = np.repeat(starts, np.diff(np.r_[starts, len(h)]))
    del starts
    rank = np.arange(len(h), dtype=np.int32) - bucket_start
    kept = rank < cap
    partners = np.minimum(rank, cap).astype(np.int8)  # earlier holders in this shingle's posting list
    del rank

    sets = DisjointSets(n)
    by_hash: dict[str, int] = {}
    for pos, digest in enumerate(hashes):
        sets.union(by_hash.setdefault(digest, pos), pos)
    # pairs are counted a slice of later speeches at a time, each slice bounded in pairs (memory)
    per_speech = np.bincount(i, weights=partners, minlength=n).astype(np.int64)
    bounds = np.searchsorted(np.cumsum(per_speech), np.arange(_PAIR_BUDGET, per_speech.sum() + _PAIR_BUDGET,
                                                              _PAIR_BUDGET), side="right")
    lo = 0
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for hi in [*np.unique(np.maximum(bounds, 1)).tolist(), n]:
        if hi <= lo:
            continue
        rows = where[offsets[lo]:offsets[hi]]
        rows = rows[partners[rows] > 0]
        lo = hi
        counts = partners[rows].astype(np.int64)
        if not len(rows):
            continue
        later = np.repeat(i[rows].astype(np.int64), counts)
        step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        earlier = i[np.repeat(bucket_start[rows], counts) + step].astype(np.int64)
        pairs, shared = np.unique(earlier * n + later, return_counts=True)
        a, b = pairs // n, pairs % n
        matched = shared / np.maximum(np.minimum(lengths[a], lengths[b]), 1) >= threshold
        found.append((a[matched], b[matched], shared[matched]))
    a, b, shared = (np.concatenate(x) for x in zip(*found, strict=True)) if found else (np.zeros(0, np.int64),) * 3
    holds = compilations(all_h, offsets, lengths, (a, b, shared),
                         np.ones(n, bool) if complete is None else complete,
                         np.zeros(n, bool) if known is None else known, in_order)
    inside = _inside(a, b, shared, lengths)
    for x, y, held in zip(a.tolist(), b.tolist(), inside.tolist(), strict=True):
        if not (held and holds[max(x, y, key=lengths.__getitem__)]):  # a compilation bridges nothing it holds
            sets.union(x, y)
    return h[kept], i[kept], sets.sets(), holds


def _inside(a: np.ndarray, b: np.ndarray, shared: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each matched pair: does the smaller text sit inside the larger one, as one part of it
    rather than a copy of most of it?"""
    return shared / np.maximum(np.maximum(lengths[a], lengths[b]), 1) < SAME_DOCUMENT


def compilations(all_h: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
                 matched: tuple[np.ndarray, np.ndarray, np.ndarray], complete: np.ndarray, known: np.ndarray,
                 in_order: Callable[[int], np.ndarray] | None) -> np.ndarray:
    """Which speeches are compilations: two or more whole texts lie in them one after another, in
    stretches that do not overlap.

    A compilation the splitter could not cut contains every speech it runs together; grouping it
    with them would merge their groups. A speech with partial copies of itself is mostly not one:
    a first part and an excerpt overlap, a copy with its middle left out is no one stretch. Two
    unmarked partial copies from far apart in one speech do make it one, and then stay apart: on
    bench/dedup.py's corpus, where no partial copy is marked, that costs 0.4 points of recall and
    saves 6 of precision.
    ``in_order(x)`` gives speech x's sampled hashes in text order (None: find none).
    """
    a, b, shared = matched
    holds = known.copy()
    if in_order is None:
        return holds
    held: dict[int, list[int]] = {}
    for x, y, one_way in zip(a.tolist(), b.tolist(), _inside(a, b, shared, lengths).tolist(), strict=True):
        big, small = (x, y) if lengths[x] >= lengths[y] else (y, x)
        if one_way and complete[small]:
            held.setdefault(big, []).append(small)
    for big, parts in held.items():
        if not holds[big] and len(parts) >= 2:
            order = in_order(big)
            stretches = [s for p in sorted(parts)[:HELD_LIMIT]
                         if (s := _stretch(order, all_h[offsets[p]:offsets[p + 1]])) is not None]
            holds[big] = _apart(stretches) >= 2
    return holds


def _stretch(order: np.ndarray, sketch: np.ndarray) -> tuple[int, int] | None:
    """Where ``sketch``'s text lies in the text ``order`` samples, if it lies in one stretch (a
    twentieth of its matches either side left out: stock phrases it shares with its neighbours)."""
    inside = np.isin(order, sketch)
    where = np.flatnonzero(inside)
    if not len(where):
        return None
    lo, hi = (int(q) for q in np.quantile(where, [0.05, 0.95], method="nearest"))
    return (lo, hi) if inside[lo:hi + 1].mean() >= CONTIGUOUS else None


def _apart(stretches: list[tuple[int, int]]) -> int:
    """How many of the stretches lie one after another without overlapping."""
    apart = 0
    end = -1
    for lo, hi in sorted(stretches, key=lambda s: s[1]):
        if lo > end - OVERLAP * (hi - lo + 1):
            apart, end = apart + 1, hi
    return apart
