"""The learned layer: a site's own chrome, found as lines that recur across many different
speeches of that site, and removed from its pages.

Counting is by duplicate group, not by page, so a speech reposted on several pages of one site
does not teach its own sentences as chrome. Salutations, headings and closing formulae recur in
every speech of every site and are never learned.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from cleaners import patterns as P
from cleaners.chars import fold
from cleaners.pipeline import CleanResult
from cleaners.types import Removal

MIN_GROUPS = 4  # fewer distinct speeches teach nothing
MIN_SHARE = 0.3  # a line in at least this share of a site's speeches is chrome
MAX_CHARS = 120  # long paragraphs are prose, however often they recur
_CLOSING = re.compile(r"^(?:谢谢(?:大家)?[!。]?|谢谢各位[!。]?|以上(?:发言|汇报)?.{0,6}(?:妥|当|正)之处.*)$")


def key(line: str) -> str:
    return re.sub(r"\s+", "", fold(line))


def _protected(folded: str) -> bool:
    return bool(P.SALUTATION.match(folded) or P.OPENING.match(folded) or P.TOP_HEADING.match(folded)
                or P.HEADING.match(folded) or P.SUBHEAD.match(folded) or _CLOSING.match(folded))


def line_keys(paragraphs: Iterable[str]) -> frozenset[str]:
    """The keys of one speech's lines that could be chrome (long paragraphs are prose)."""
    return frozenset(key(p) for p in paragraphs if 2 <= len(p) <= MAX_CHARS)


def learn(speeches: Iterable[tuple[int, frozenset[str]]]) -> frozenset[str]:
    """Boilerplate line keys from one site's (group id, ``line_keys``) pairs."""
    seen: dict[int, set[str]] = {}
    for group, keys in speeches:
        seen.setdefault(group, set()).update(keys)
    if len(seen) < MIN_GROUPS:
        return frozenset()
    counts = Counter(k for keys in seen.values() for k in keys)
    floor = max(3, MIN_SHARE * len(seen))
    return frozenset(k for k, n in counts.items() if n >= floor and not _protected(k))


def remove_learned(result: CleanResult, boilerplate: frozenset[str]) -> CleanResult:
    """Drop learned boilerplate paragraphs from every speech of a cleaned page."""
    if not boilerplate:
        return result
    removals = list(result.removals)
    speeches = []
    for speech in result.speeches:
        kept = [p for p in speech.paragraphs if key(p) not in boilerplate]
        removals += [Removal("learned.boilerplate", p) for p in speech.paragraphs if key(p) in boilerplate]
        speeches.append(replace(speech, paragraphs=kept))
    return replace(result, speeches=[s for s in speeches if s.paragraphs], removals=removals)
