"""Scoring cleaned text against gold: character-level F1 and residual noise.

Characters are matched in order (difflib's longest matching blocks, no junk heuristic), after
removing whitespace, so a paragraph break is not an error but a dropped or extra word is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

PAGES = Path(__file__).resolve().parent / "pages"


@dataclass(frozen=True)
class Case:
    name: str
    html: bytes
    meta: dict

    @property
    def gold_texts(self) -> list[str]:
        return [s["text"] for s in self.meta["speeches"]]


def cases() -> list[Case]:
    return [Case(p.stem, p.read_bytes(), json.loads(p.with_suffix(".json").read_text(encoding="utf-8")))
            for p in sorted(PAGES.glob("*.html"))]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def char_f1(gold: str, predicted: str) -> float:
    g, p = _squash(gold), _squash(predicted)
    if not g and not p:
        return 1.0
    if not g or not p:
        return 0.0
    matched = sum(b.size for b in SequenceMatcher(None, g, p, autojunk=False).get_matching_blocks())
    precision, recall = matched / len(p), matched / len(g)
    return 0.0 if matched == 0 else 2 * precision * recall / (precision + recall)


def residue(case: Case, predicted: str) -> list[str]:
    """Noise strings of the page that survived, unless the gold text itself holds them."""
    gold = _squash("".join(case.gold_texts))
    text = _squash(predicted)
    return [n for n in case.meta["must_not"] if _squash(n) in text and _squash(n) not in gold]
