"""What the spider hands the pipelines: one page, as one or more fetched parts."""

from __future__ import annotations

from dataclasses import dataclass

from archive.storage.store import Fetched


@dataclass
class PageItem:
    source: str
    parts: list[Fetched]
    text_parts: list[str]
    not_html: str | None = None  # what the body is instead (a PDF, an image): kept raw, never cleaned
