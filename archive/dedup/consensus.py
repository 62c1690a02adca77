"""Consensus cleaning: what one copy of a speech holds that its other copies read straight through.

A site's watermark that no pattern knows, a stray character a hidden span left behind, junk a
mirror appends to sentences: one copy has it, every other copy that covers the place goes
straight from the character before it to the character after it. Such a span — short, inside one
paragraph, not a placeholder or punctuation, held by no other copy — is removed with reason
``consensus``. It needs two other copies that agree, or one from another site. Edits stay: a
placeholder (XX, ××, **), a salutation or a paragraph added or dropped, punctuation width (the
comparison is on folded text), a word another copy replaced. The raw capture is kept, so a
``reclean`` undoes a consensus when the copies change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.dedup.compare import opcodes
from cleaners.chars import fold

PEERS = 4  # each copy is read against this many others, those nearest its length (ties by id)
_EDIT = re.compile(r"^(?:[xX×*＊○〇□-]+|[\W_]+)$")  # placeholders and punctuation are edits, never noise


@dataclass(frozen=True)
class Copy:
    id: int
    site: str
    text: str


def _peers(copy: Copy, copies: list[Copy]) -> list[Copy]:
    others = [o for o in copies if o.id != copy.id]
    return sorted(others, key=lambda o: (abs(len(o.text) - len(copy.text)), o.id))[:PEERS]


def _votes(text: str, other: str) -> tuple[list[bool], list[bool]]:
    """Per character of ``text``: does ``other`` read straight past it (it lacks it, the characters
    either side matched), and does ``other`` cover it at all (match it or differ there)."""
    lacks = [False] * len(text)
    covers = [False] * len(text)
    ops = opcodes(text, other)
    matched = [(i1, i2) for op, i1, i2, _, _ in ops if op == "equal"]
    if not matched:
        return lacks, covers
    first, last = matched[0][0], matched[-1][1]
    for k in range(first, last):
        covers[k] = True
    for op, i1, i2, j1, j2 in ops:
        if op == "delete" and first <= i1 and i2 <= last and j1 == j2:
            for k in range(i1, i2):
                lacks[k] = True
    return lacks, covers


def insertions(copies: list[Copy], max_span: int = 80) -> dict[int, list[tuple[int, int]]]:
    """For each copy, the spans of its text (offsets, end exclusive) that consensus removes."""
    folded = {c.id: fold(c.text) for c in copies}
    out: dict[int, list[tuple[int, int]]] = {}
    for copy in copies:
        text = folded[copy.id]
        lacking = [0] * len(text)
        other_site = [False] * len(text)
        holding = [0] * len(text)
        for peer in _peers(copy, copies):
            lacks, covers = _votes(text, folded[peer.id])
            for k in range(len(text)):
                if lacks[k]:
                    lacking[k] += 1
                    other_site[k] = other_site[k] or peer.site != copy.site
                elif covers[k]:
                    holding[k] += 1
        spans = []
        k = 0
        while k < len(text):
            if lacking[k] and not holding[k]:
                end = k
                while end < len(text) and lacking[end] and not holding[end]:
                    end += 1
                enough = min(lacking[k:end]) >= 2 or all(other_site[k:end])
                piece = text[k:end]
                whole = (k == 0 or text[k - 1] == "\n") and (end == len(text) or text[end] == "\n")  # a paragraph
                if enough and end - k <= max_span and "\n" not in piece and not whole and not _EDIT.match(piece.strip()):
                    spans.append((k, end))
                k = end
            else:
                k += 1
        if spans:
            out[copy.id] = spans
    return out


def cut(text: str, spans: list[tuple[int, int]]) -> tuple[str, list[str]]:
    """``text`` without ``spans``, and the pieces taken."""
    pieces, out, pos = [], [], 0
    for start, end in sorted(spans):
        out.append(text[pos:start])
        pieces.append(text[start:end])
        pos = end
    out.append(text[pos:])
    return "".join(out), pieces
