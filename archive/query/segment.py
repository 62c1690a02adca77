"""Word segmentation for the export's optional ``text_segmented`` column.

jieba is an optional extra (``pip install 'speech-archive[segment]'``): its dictionary ships
inside the package, so segmenting needs no download, but most exports do not want the time it
costs (about 360,000 characters a second on one core: bench/export.py).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable


def require_segmenter() -> None:
    """Fail before any output is written when jieba is not installed."""
    if importlib.util.find_spec("jieba") is None:
        raise ValueError("word segmentation needs jieba: pip install 'speech-archive[segment]'")


def segmenter() -> Callable[[str], str]:
    """A function from text to its words separated by spaces, paragraphs still separated by newlines."""
    require_segmenter()
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces loading its dictionary on stderr otherwise
    tokenizer = jieba.Tokenizer()

    def words(text: str) -> str:
        return "\n".join(" ".join(w for w in tokenizer.cut(line) if not w.isspace()) for line in text.split("\n"))

    return words
