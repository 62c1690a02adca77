"""Cut a compilation at the boundaries its speeches' own copies show.

The splitter finds seams in one page by its cues; a speech run into the next with no title, no
salutation and no closing has none. But when that speech is archived on its own elsewhere, its copy
says exactly where it starts and ends: the compilation's paragraphs that read as the copy's first
and last paragraphs (after folding) are its bounds. Between two such speeches, a title line opens
the next one; other text stays a piece of its own when it is long enough to be a speech, and joins
its neighbour otherwise, so no character of the page is lost.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from archive.dedup.compare import comparison_form
from cleaners import patterns as P
from cleaners.chars import fold

ANCHOR_CHARS = 12  # a paragraph this long (folded) identifies its speech by itself; shorter ones only extend a run


@dataclass(frozen=True)
class Piece:
    title: str | None  # a title line of the compilation above the piece
    paragraphs: list[str]
    copy: int | None  # index of the copy whose bounds cut it; None: text between known speeches


def _span(forms: list[str], theirs: list[str], common: set[str]) -> tuple[int, int] | None:
    """First and last paragraph of ``forms`` that are the copy's own (not ``common`` to several
    copies, as a stock closing is), extended over the lines around them that read as the copy's
    do, in the copy's own order (a salutation, a closing)."""
    where: dict[str, int] = {}
    for j, f in enumerate(theirs):
        if len(f) >= ANCHOR_CHARS and f not in common:
            where.setdefault(f, j)
    anchors = [(i, where[f]) for i, f in enumerate(forms) if f in where]
    if not anchors:
        return None
    (i0, j0), (i1, j1) = anchors[0], anchors[-1]
    while i0 > 0 and j0 > 0 and forms[i0 - 1] == theirs[j0 - 1]:
        i0, j0 = i0 - 1, j0 - 1
    while i1 + 1 < len(forms) and j1 + 1 < len(theirs) and forms[i1 + 1] == theirs[j1 + 1]:
        i1, j1 = i1 + 1, j1 + 1
    return i0, i1


def _title_like(paragraph: str) -> bool:
    folded = fold(paragraph).strip()
    return bool(P.DOC_TITLE.match(folded)) and not P.TOP_HEADING.match(folded)


def cut_at_copies(paragraphs: list[str], copies: list[list[str]], min_chars: int) -> list[Piece] | None:
    """The pieces of a compilation, or None when its copies do not cut it in two or more speeches
    cleanly (none found, or their spans overlap)."""
    forms = [comparison_form(p) for p in paragraphs]
    theirs = [[comparison_form(p) for p in copy] for copy in copies]
    seen = Counter(f for copy in theirs for f in set(copy))
    common = {f for f, n in seen.items() if n > 1}
    found = sorted(((s, c) for c, copy in enumerate(theirs) if (s := _span(forms, copy, common)) is not None),
                   key=lambda sc: (sc[0][0], -sc[0][1]))
    # a span inside another's is a shorter copy of that speech: the fuller copy gives the bounds
    spans = [sc for k, sc in enumerate(found) if not any(o[0] <= sc[0][0] and sc[0][1] <= o[1] for o, _ in found[:k])]
    if len(spans) < 2 or any(a[0][1] >= b[0][0] for a, b in itertools.pairwise(spans)):
        return None
    pieces: list[Piece] = []
    carry: list[str] = []  # short text between speeches, given to the next piece
    at = 0
    for (start, end), c in [*spans, ((len(paragraphs), len(paragraphs) - 1), None)]:
        between = paragraphs[at:start]
        title = between.pop() if between and c is not None and _title_like(between[-1]) else None
        if sum(len(p) for p in between) >= min_chars:
            pieces.append(Piece(None, carry + between, None))
            carry = []
        elif c is None and pieces:  # the page's tail after the last speech stays with it
            last = pieces[-1]
            pieces[-1] = Piece(last.title, last.paragraphs + carry + between, last.copy)
            carry = []
        else:
            carry += between
        if c is not None:
            pieces.append(Piece(title, carry + paragraphs[start:end + 1], c))
            carry = []
        at = end + 1
    return pieces
