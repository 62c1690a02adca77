"""Whether a cleaned text is running prose at all, or something a page held instead of a speech.

Speeches have sentences, are written mostly in the commonest Chinese characters and do not repeat
themselves. A page of random characters, a binary body read as text, a text decoded in the wrong
charset, a table of numbers or a dump of one line copied a thousand times fails one of these; it
gives no speech and is listed for review with the reason.
"""

from __future__ import annotations

import re
import zlib

from cleaners.chars import CJK, common_share

_CJK = re.compile(rf"[{CJK}]")
_SENTENCE_MARK = re.compile(r"[。！？；，、,.!?;：:]")
MIN_JUDGED = 200  # shorter texts are too short to judge by their statistics


def not_prose(text: str, max_chars: int) -> str | None:
    """The reason ``text`` is not a speech, or None when it reads as running prose."""
    if len(text) > max_chars:
        return f"longer than {max_chars} characters ({len(text)})"
    visible = re.sub(r"\s+", "", text)
    if len(visible) < MIN_JUDGED:
        return None
    cjk = len(_CJK.findall(visible))
    if cjk < 0.3 * len(visible):
        return f"mostly not Chinese text ({cjk} of {len(visible)} characters)"
    share = common_share(visible[:20000])
    if share < 0.3:
        return f"characters rarely used in writing ({share:.0%} common): random text or a wrong charset"
    if len(_SENTENCE_MARK.findall(visible)) < cjk / 80:
        return "no sentences: almost no punctuation"
    sample = visible[:200_000].encode("utf-8")
    if len(sample) >= 1000 and len(zlib.compress(sample, 1)) < 0.15 * len(sample):
        return "the same text repeated over and over"
    return None
