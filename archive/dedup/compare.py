"""The form in which texts are compared for deduplication and reconstruction, never stored.

Simplified script, half-width, lower case, no punctuation or spaces, anonymising placeholders
(XX, ××, **, 某某) unified: copies that differ only in these count as the same text.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import accumulate

from cleaners.chars import CJK, fold

_PLACEHOLDER = re.compile(r"x{2,}|×{2,}|\*{2,}|某某|[○〇]{2,}|-{2,}")
_NOT_TEXT = re.compile(rf"[^a-z0-9{CJK}□]+")


def comparison_form(text: str) -> str:
    """Folded text for comparison only: the stored text keeps its published form."""
    return _NOT_TEXT.sub("", _PLACEHOLDER.sub("□", fold(text)))


@lru_cache(maxsize=1024)
def opcodes(a: str, b: str) -> tuple[tuple[str, int, int, int, int], ...]:
    """How ``b`` differs from ``a`` (difflib's opcodes, no junk heuristic). Remembered: a group's
    copies are compared again each time one more arrives, and each alignment of two long texts
    costs tens of milliseconds."""
    return tuple(SequenceMatcher(None, a, b, autojunk=False).get_opcodes())


COPY_GAP = "copies"  # a gap no page stated: a fuller copy shows the text goes on past this copy's end


def stops_early(forms: dict[int, str], least: int = 100) -> dict[int, int]:
    """Copies that stop where a fuller copy goes on: id → characters the fullest such copy has beyond.

    A copy counts when its comparison form is a prefix of another's and the other goes on for at
    least ``least`` characters and a tenth of its length (a closing line or a site's outro one page
    failed to drop is not a missing end)."""
    by_length = sorted(forms.items(), key=lambda item: len(item[1]))
    out: dict[int, int] = {}
    for k, (sid, form) in enumerate(by_length):
        if len(form) < least:
            continue
        for _, other in reversed(by_length[k + 1:]):  # the fullest first
            if len(other) < len(form) + max(least, len(other) // 10):
                break
            if other.startswith(form):
                out[sid] = len(other) - len(form)
                break
    return out


def lacks_stretches(forms: dict[int, list[str]], least: int = 100) -> dict[int, list[tuple[int, int]]]:
    """Copies missing a stretch that two other copies hold at that place — in their middle, before
    their start or past their end (an excerpt): id → [(paragraphs before the gap, characters
    missing)], from each copy's paragraphs in comparison form. A stretch one other copy adds is an
    edit."""
    joined = {sid: "".join(f) for sid, f in forms.items()}
    out: dict[int, list[tuple[int, int]]] = {}
    for sid, form in joined.items():
        if len(form) < least:
            continue
        votes: dict[int, list[int]] = {}  # position in this copy → lengths other copies hold there
        for other, text in joined.items():
            if other == sid or len(text) <= len(form):
                continue
            for op, i1, i2, j1, j2 in opcodes(form, text):
                if op == "insert" and j2 - j1 >= max(least, len(text) // 10):
                    votes.setdefault(i1, []).append(j2 - j1)
        ends = list(accumulate(len(f) for f in forms[sid]))
        gaps = [(sum(e <= at for e in ends), min(lengths)) for at, lengths in sorted(votes.items()) if len(lengths) >= 2]
        if gaps:
            out[sid] = gaps
    return out


def with_copy_gaps(gaps: list[dict], paragraphs: int, beyond: int | None, stretches: list[tuple[int, int]]) -> list[dict]:
    """A copy's gaps with those its copies imply: stretches missing inside, and the end missing
    past ``beyond`` characters (None: none)."""
    kept = [g for g in gaps if g.get("kind") != COPY_GAP]
    implied = [{"after_para": at, "kind": COPY_GAP, "chars": n} for at, n in stretches]
    implied += [{"after_para": paragraphs, "kind": COPY_GAP, "chars": beyond}] if beyond else []
    return kept + implied
