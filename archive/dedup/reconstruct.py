"""Reconstruction: the fullest text of a speech assembled from partial copies.

A truncated copy records where its text is missing (its gaps: after which paragraph, omitted or
cut). Each gap is filled from another copy of the group: find that copy's paragraphs matching the
ones on either side of the gap and take what lies between them; a paragraph cut short at the edge
of a gap gives way to the whole one. Nothing is invented: text only comes from copies, every
paragraph names the speech it came from, and gaps no copy covers stay open.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.dedup.compare import comparison_form


@dataclass
class Reconstruction:
    paragraphs: list[dict[str, object]]  # {"text": ..., "from": speech id}
    open_gaps: list[int]  # paragraph indices still followed by missing text
    filled: int  # gaps filled

    @property
    def text(self) -> str:
        return "\n".join(str(p["text"]) for p in self.paragraphs)


def _same(a: str, b: str) -> bool:
    """The same paragraph, possibly cut at one end in one of the copies."""
    x, y = comparison_form(a), comparison_form(b)
    if x == y:
        return bool(x)
    short, long_ = sorted((x, y), key=len)
    return len(short) >= 8 and (long_.startswith(short) or long_.endswith(short))


def _longer(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    return b if len(str(b["text"])) > len(str(a["text"])) else a


def _find(paras: list[dict[str, object]], text: str, start: int = 0) -> int | None:
    return next((j for j in range(start, len(paras)) if _same(str(paras[j]["text"]), text)), None)


def fill(base: list[dict[str, object]], gaps: list[int], other: list[dict[str, object]],
         other_gaps: list[int]) -> tuple[list[dict[str, object]], list[int], int]:
    """Fill ``base``'s gaps from ``other``. A gap is the number of paragraphs before it."""
    paras, open_gaps, filled = list(base), [], 0
    for n in sorted(gaps, reverse=True):  # from the end, so earlier positions stay valid
        left = _find(other, str(paras[n - 1]["text"])) if n > 0 else None
        if left is None:
            open_gaps.append(n)
            continue
        right = _find(other, str(paras[n]["text"]), left + 1) if n < len(paras) else None
        end = right if right is not None else len(other)
        middle = other[left + 1: end]
        paras[n - 1] = _longer(paras[n - 1], other[left])
        if right is not None:
            paras[n] = _longer(paras[n], other[right])
        paras[n:n] = middle
        open_gaps = [g + len(middle) for g in open_gaps]  # those found so far lie after this one
        # the other copy's own gaps inside what was taken, and a gap it could not close
        still = [n + g - left - 1 for g in other_gaps if left + 1 <= g <= end]
        if right is None and n < len(paras) - len(middle):
            still.append(n + len(middle))
        open_gaps += still
        filled += not still
    return paras, sorted(set(open_gaps)), filled


def reconstruct(copies: list[tuple[int, list[str], list[int]]]) -> Reconstruction:
    """Fill the fullest copy's gaps from the others: (speech id, paragraphs, gap positions) each."""
    ordered = sorted(copies, key=lambda c: -sum(len(p) for p in c[1]))
    sid, paragraphs, gaps = ordered[0]
    result = [{"text": p, "from": sid} for p in paragraphs]
    open_gaps, filled = list(gaps), 0
    for other_id, other_paras, other_gaps in ordered[1:]:
        if not open_gaps:
            break
        result, open_gaps, n = fill(result, open_gaps, [{"text": p, "from": other_id} for p in other_paras],
                                    other_gaps)
        filled += n
    return Reconstruction(result, open_gaps, filled)
