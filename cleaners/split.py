"""Split a page that is not one speech into the speeches it holds.

Explicit separators first ("讲话一:", "篇2", "【范文三】"). Without them, a compilation shows its
seams by a restart of top-level numbering (一、 after 三、), a fresh salutation after a body of
text, an opening formula ("现将……汇报如下:") or a stand-alone document title.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass

from cleaners import patterns as P
from cleaners.chars import fold
from cleaners.types import Para, Removal

_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}


@dataclass
class Segment:
    title: str | None
    paras: list[Para]


def cn_number(numeral: str) -> int:
    """Value of a small Chinese numeral (一 … 九十九) or digits."""
    if numeral.isdigit():
        return int(numeral)
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return (_CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    return _CN_DIGITS.get(numeral[-1:], 0)


def _chars(paras: list[Para]) -> int:
    return sum(len(p) for p in paras if isinstance(p, str))


def _opening(folded: str) -> bool:
    return bool(P.SALUTATION.match(folded) or P.SALUTATION_PART.match(folded) or P.OPENING.match(folded)
                or P.SUBTITLE.match(folded) or (P.DOC_TITLE.match(folded) and not P.TOP_HEADING.match(folded)))


def _explicit(paras: list[Para]) -> tuple[list[Segment], list[Removal]] | None:
    heads = [i for i, p in enumerate(paras) if isinstance(p, str) and P.SUBHEAD.match(fold(p).strip())]
    if len(heads) < 2:
        return None
    removals = [Removal("split.prelude", p) for p in paras[: heads[0]] if isinstance(p, str)]
    segments = []
    for n, start in enumerate(heads):
        end = heads[n + 1] if n + 1 < len(heads) else len(paras)
        title = re.sub(r"[::\s]+$", "", str(paras[start])).strip("【】[] ")
        segments.append(Segment(title, paras[start + 1: end]))
    return segments, removals


def _opens_next(paras: list[Para], i: int) -> bool:
    """A stand-alone title starts a new document only if an opening follows it, or a first
    heading (一、) within the next three paragraphs."""
    following = [fold(p).strip() for p in paras[i + 1: i + 4] if isinstance(p, str)]
    if not following:
        return False
    tops = [P.TOP_HEADING.match(f) for f in following]
    return _opening(following[0]) or any(t and cn_number(t.group(1)) == 1 for t in tops)


def _bigrams(paras: list[Para]) -> Counter[str]:
    text = "".join(fold(p) for p in paras if isinstance(p, str))
    return Counter(text[k:k + 2] for k in range(len(text) - 1) if "\u4e00" <= text[k] <= "\u9fff")


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(v * b[k] for k, v in a.items())
    norm = math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _title_before(paras: list[Para], seg_start: int, seam: int, reach: int = 4) -> int | None:
    """A document title a few paragraphs above a restart of numbering: the new document starts there."""
    for k in range(seam - 1, max(seg_start, seam - reach - 1), -1):
        p = paras[k]
        if isinstance(p, str) and P.DOC_TITLE.match(fold(p).strip()) and not P.TOP_HEADING.match(fold(p).strip()):
            return k
    return None


def _intro_start(paras: list[Para], seg_start: int, seam: int, window: int = 8) -> int:
    """A report often opens with a paragraph before its 一、: move the seam back over (at most two)
    non-heading paragraphs whose vocabulary belongs with what follows rather than what precedes."""
    start = seam
    after = _bigrams(paras[seam: seam + window])
    while start - 1 > seg_start + 1 and seam - start < 2:
        cand = paras[start - 1]
        folded = fold(cand).strip() if isinstance(cand, str) else ""
        if not folded or P.HEADING.match(folded) or P.TOP_HEADING.match(folded) or P.CLOSING.match(folded):
            break  # a closing ends the speech before; it never opens the next
        mine = _bigrams([cand])
        before = _bigrams(paras[max(seg_start, start - 1 - window): start - 1])
        if _cosine(mine, after) <= _cosine(mine, before):
            break
        start -= 1
    return start


def _signature_line(paras: list[Para], i: int) -> bool:
    """A short line before a closing date: the signing office ("中共××县委办公室")."""
    nxt = paras[i + 1] if i + 1 < len(paras) else None
    return isinstance(nxt, str) and len(str(paras[i])) <= 24 and bool(P.CLOSING.match(fold(nxt).strip()))


def _boundaries(paras: list[Para], min_chars: int) -> list[int]:
    starts = [0]
    last_top = 0
    dashes = False  # the current segment already uses "——" headings
    offsets = [0]  # offsets[i]: characters in paras[:i]
    for p in paras:
        offsets.append(offsets[-1] + (len(p) if isinstance(p, str) else 0))
    for i, p in enumerate(paras):
        if not isinstance(p, str):
            continue
        folded = fold(p).strip()
        top = P.TOP_HEADING.match(folded)
        number = cn_number(top.group(1)) if top else 0
        enough = offsets[i] - offsets[starts[-1]] >= min_chars
        dash = bool(P.SUBTITLE.match(folded)) and i > starts[-1] + 1  # not a subtitle under the title
        closed = i > 0 and isinstance(paras[i - 1], str) and bool(P.CLOSING.match(fold(str(paras[i - 1])).strip()))
        seam = enough and (
            # what follows a closing (thanks, a request for comment, a date) is another document
            (closed and not P.CLOSING.match(folded) and not _signature_line(paras, i))
            or (number == 1 and (last_top >= 2 or dashes))
            # a "——" heading where the text so far was numbered 一、二、: another document's style
            or (dash and not dashes and last_top >= 2)
            or bool(P.SALUTATION.match(folded))
            or bool(P.GREETING.match(folded))
            or bool(re.search(r"(?:汇报|报告)如下[:。]?$", folded))
            or (bool(P.DOC_TITLE.match(folded)) and not top and (_opens_next(paras, i) or bool(P.OCCASION.search(folded)))))
        if seam:
            start = i
            while start - 1 > starts[-1] and isinstance(paras[start - 1], str) \
                    and _opening(fold(str(paras[start - 1])).strip()) and i - start < 4 \
                    and not (closed and start == i):
                start -= 1
            if start == i and number == 1:
                start = _title_before(paras, starts[-1], i) or _intro_start(paras, starts[-1], i)
            starts.append(start)
            last_top = 0
            dashes = False
        if top:
            last_top = number
        dashes = dashes or dash
    return starts


def split_speeches(paras: list[Para], min_chars: int) -> tuple[list[Segment], list[Removal]]:
    """Segments of ``paras``, one per speech; tiny pieces are merged into a neighbour."""
    explicit = _explicit(paras)
    if explicit:
        segments, removals = explicit
    else:
        starts = _boundaries(paras, min_chars) + [len(paras)]
        segments = []
        for a, b in itertools.pairwise(starts):
            seg = paras[a:b]
            first = seg[0] if seg else None
            title = None
            if isinstance(first, str) and P.DOC_TITLE.match(fold(first).strip()) and len(starts) > 2:
                title, seg = first.strip(), seg[1:]
            segments.append(Segment(title, seg))
        removals = []
    merged: list[Segment] = []
    for seg in segments:
        if merged and _chars(seg.paras) < min_chars:
            merged[-1].paras.extend(seg.paras)
        elif merged and _chars(merged[-1].paras) < min_chars:
            merged[-1] = Segment(merged[-1].title or seg.title, merged[-1].paras + seg.paras)
        else:
            merged.append(seg)
    return [s for s in merged if _chars(s.paras)], removals
