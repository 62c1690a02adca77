"""Whether a cleaned text is running prose at all, or something a page held instead of a speech.

Speeches have sentences, are written mostly in the commonest Chinese characters and do not repeat
themselves. A page of random characters, a binary body read as text, a text decoded in the wrong
charset, a table of numbers or a dump of one line copied a thousand times fails one of these; it
gives no speech and is listed for review with the reason.
"""

from __future__ import annotations

import re
import zlib

from cleaners.chars import CJK, common_share, count

_CJK = re.compile(rf"[{CJK}]+")
_SENTENCE_MARK = re.compile(r"[。！？；，、,.!?;：:]+")
MIN_JUDGED = 200  # shorter texts are too short to judge by their statistics
SAMPLE = 1200


def not_prose(text: str, max_chars: int) -> str | None:
    """The reason ``text`` is not a speech, or None when it reads as running prose."""
    if len(text) > max_chars:
        return f"longer than {max_chars} characters ({len(text)})"
    visible = re.sub(r"\s+", "", text[:SAMPLE])  # the statistics settle long before the end of a long text
    if len(visible) < MIN_JUDGED:
        return None
    cjk = count(_CJK, visible)
    if cjk < 0.3 * len(visible):
        return f"mostly not Chinese text ({cjk} of {len(visible)} characters)"
    share = common_share(visible[:600])
    if share < 0.3:
        return f"characters rarely used in writing ({share:.0%} common): random text or a wrong charset"
    if count(_SENTENCE_MARK, visible) < cjk / 80:
        return "no sentences: almost no punctuation"
    sample = visible.encode("utf-8")
    if len(sample) >= 1000 and len(zlib.compress(sample, 1)) < 0.15 * len(sample):
        return "the same text repeated over and over"
    return None
