"""A labelled set for deduplication, generated from the evaluation gold texts.

Each distinct speech (a *base*) appears as several copies the way sites circulate it: as
published, in traditional script, truncated by a paywall, with its middle omitted, as an
excerpt, and lightly edited (placeholders, a dropped salutation, punctuation width, one more
paragraph). Copies of one base belong together; different bases — several of them reports on the
same theme full of the same stock phrases (the seeds/004 compilation) — must stay apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from cleaners.chars import to_simplified, to_traditional

PAGES = Path(__file__).resolve().parent.parent / "eval" / "pages"


@dataclass(frozen=True)
class Doc:
    base: int
    kind: str
    text: str
    truncated: bool = False


def bases() -> list[str]:
    """Distinct gold speeches of the evaluation set, in simplified script, longest copy of each."""
    texts: dict[str, str] = {}
    for meta in sorted(PAGES.glob("*.json")):
        for speech in json.loads(meta.read_text(encoding="utf-8"))["speeches"]:
            text = to_simplified(speech["text"]).replace("??h", "县")
            texts.setdefault(text[:40], text)
    return [t for t in texts.values() if len(t) >= 400]


def _paras(text: str) -> list[str]:
    return text.split("\n")


def variants(base: int, text: str) -> list[Doc]:
    paras = _paras(text)
    n = len(text)
    edited = [p.replace("县", "XX县", 1).replace(",", ",").replace(":", ":") for p in paras]
    if edited and edited[0].endswith(":") and len(edited) > 2:
        edited = edited[1:]  # the salutation dropped
    edited.append("以上汇报如有不妥之处,请批评指正。")
    middle = n // 2
    return [
        Doc(base, "original", text),
        Doc(base, "traditional", to_traditional(text)),
        Doc(base, "truncated", text[: int(n * 0.45)], truncated=True),
        Doc(base, "omitted_middle", text[: int(n * 0.3)] + "\n" + text[int(n * 0.7):], truncated=True),
        Doc(base, "excerpt", text[middle - n // 5: middle + n // 5]),
        Doc(base, "edited", "\n".join(edited)),
    ]


KINDS = ("original", "traditional", "truncated", "omitted_middle", "excerpt", "edited")


def labelled_set() -> list[Doc]:
    return [doc for i, text in enumerate(bases()) for doc in variants(i, text)]


def with_compilations(docs: list[Doc], pages: int = 6) -> list[Doc]:
    """``docs`` with compilation pages the splitter could not cut: two to four originals of
    unrelated bases run together with no seam. Each page is a document of its own (a base of its
    own), archived before, among and after the copies it holds, so every order of arrival is tried."""
    originals = [d for d in docs if d.kind == "original"]
    picks = [(0, 3), (1, 6, 11), (2, 7, 12, 4), (5, 8), (9, 13, 10), (14, 7, 10)]  # no two mostly alike
    made = [Doc(-1 - k, "compilation", "\n".join(originals[i % len(originals)].text for i in held))
            for k, held in enumerate(picks[:pages])]
    third = len(docs) // 3
    return made[:2] + docs[:third] + made[2:4] + docs[third:] + made[4:]


def pairwise_scores(docs: list[Doc], groups: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall of a grouping against the bases."""
    tp = fp = fn = 0
    for (a, ga), (b, gb) in combinations(zip(docs, groups, strict=True), 2):
        same, together = a.base == b.base, ga == gb
        tp += same and together
        fp += together and not same
        fn += same and not together
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall
