"""The form in which texts are compared for deduplication and reconstruction, never stored.

Simplified script, half-width, lower case, no punctuation or spaces, anonymising placeholders
(XX, ××, **, 某某) unified: copies that differ only in these count as the same text.
"""

from __future__ import annotations

import re

from cleaners.chars import CJK, fold

_PLACEHOLDER = re.compile(r"x{2,}|×{2,}|\*{2,}|某某|[○〇]{2,}|-{2,}")
_NOT_TEXT = re.compile(rf"[^a-z0-9{CJK}□]+")


def comparison_form(text: str) -> str:
    """Folded text for comparison only: the stored text keeps its published form."""
    return _NOT_TEXT.sub("", _PLACEHOLDER.sub("□", fold(text)))
