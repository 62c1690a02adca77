"""Work done ahead: pure functions of a text whose results another process may hand in.

The archive writer is one process, and a crawl goes at its pace; a new speech's sketch and
full-text document are pure functions of its text, so the cleaning pool computes them with the
page (``archive.ingest``) and the writer ``keep``s them. A call finds its result there once, or
computes it: what is handed in changes how fast, never what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Ahead(Generic[T]):
    """``fn`` of one text, with results computed elsewhere kept for it until asked for (at most
    ``size``: one never asked for, the text of a page the writer learned more of, goes first)."""

    def __init__(self, fn: Callable[[str], T], size: int = 512) -> None:
        self.fn = fn
        self.size = size
        self.kept: dict[str, T] = {}
        self.hits = 0  # calls answered by what was kept

    def __call__(self, text: str) -> T:
        kept = self.kept.pop(text, None)
        if kept is None:
            return self.fn(text)
        self.hits += 1
        return kept

    def keep(self, text: str, value: T) -> None:
        self.kept[text] = value
        if len(self.kept) > self.size:
            del self.kept[next(iter(self.kept))]
