"""Exports for analysis pipelines: JSONL, CSV and Parquet, streamed in batches.

Rows are read with ``yield_per`` and written as they come, so memory stays flat; the file is
written under a temporary name and renamed only when complete, so an interrupted export never
leaves a half-written file under the final name.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import DupGroup, Speech
from archive.search import Filters, apply_filters
from cleaners.chars import to_simplified

FORMATS = ("jsonl", "csv", "parquet")
FIELDS = ("id", "group_id", "is_canonical", "title", "text", "paragraphs", "speaker", "speech_date",
          "publish_date", "occasion", "region", "site", "url", "captured_at", "cleaner_version", "truncated",
          "stated_length", "mojibake", "needs_review", "script", "text_simplified", "reconstructed_text")


def rows(session: Session, filters: Filters | None = None, batch: int = 500) -> Iterator[dict]:
    stmt = apply_filters(select(Speech, DupGroup.canonical_id, DupGroup.reconstruction)
                         .outerjoin(DupGroup, DupGroup.id == Speech.group_id), filters or Filters()).order_by(Speech.id)
    for speech, canonical_id, rebuilt in session.execute(stmt.execution_options(yield_per=batch)):
        canonical = canonical_id == speech.id
        yield {
            "id": speech.id, "group_id": speech.group_id, "is_canonical": canonical,
            "title": speech.title, "text": speech.text, "paragraphs": list(speech.paragraphs),
            "speaker": speech.speaker, "speech_date": speech.speech_date, "publish_date": speech.publish_date,
            "occasion": speech.occasion, "region": speech.region, "site": speech.site, "url": speech.url,
            "captured_at": speech.captured_at.isoformat().replace("+00:00", "Z") if speech.captured_at else None,
            "cleaner_version": speech.cleaner_version, "truncated": speech.truncated,
            "stated_length": speech.stated_length, "mojibake": speech.mojibake, "needs_review": speech.needs_review,
            "script": speech.script, "text_simplified": to_simplified(speech.text),
            # on the canonical row of a group whose copies are all incomplete: their assembled text
            "reconstructed_text": "\n".join(p["text"] for p in rebuilt["paragraphs"]) if canonical and rebuilt else None,
        }


def _jsonl(path: Path, data: Iterator[dict]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in data:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def _csv(path: Path, data: Iterator[dict], bom: bool = False) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for row in data:
            writer.writerow({**row, "paragraphs": json.dumps(row["paragraphs"], ensure_ascii=False)})
            n += 1
    return n


def _parquet(path: Path, data: Iterator[dict], batch: int = 1000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.int64()), ("group_id", pa.int64()), ("is_canonical", pa.bool_()),
                        ("title", pa.string()), ("text", pa.string()), ("paragraphs", pa.list_(pa.string())),
                        ("speaker", pa.string()), ("speech_date", pa.string()), ("publish_date", pa.string()),
                        ("occasion", pa.string()), ("region", pa.string()), ("site", pa.string()),
                        ("url", pa.string()), ("captured_at", pa.string()), ("cleaner_version", pa.string()),
                        ("truncated", pa.bool_()), ("stated_length", pa.int64()), ("mojibake", pa.bool_()),
                        ("needs_review", pa.bool_()), ("script", pa.string()), ("text_simplified", pa.string()),
                        ("reconstructed_text", pa.string())])
    n = 0
    with pq.ParquetWriter(path, schema) as writer:
        chunk: list[dict] = []
        for row in data:
            chunk.append(row)
            if len(chunk) >= batch:
                writer.write_table(pa.Table.from_pylist(chunk, schema))
                n += len(chunk)
                chunk = []
        if chunk or n == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema))
            n += len(chunk)
    return n


WRITERS: dict[str, Callable[..., int]] = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}


def export(session: Session, fmt: str, out: Path, filters: Filters | None = None, bom: bool = False,
           progress: Callable[[int], None] | None = None, progress_every: int = 500) -> int:
    """Write every matching speech to ``out`` in ``fmt``; returns the number of rows."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise ValueError(f"folder for the export does not exist: {out.parent}")
    tmp = out.with_name(f".{out.name}.part")

    def counted(data: Iterator[dict]) -> Iterator[dict]:
        for i, row in enumerate(data, 1):
            if progress and i % progress_every == 0:
                progress(i)
            yield row

    try:
        kwargs = {"bom": bom} if fmt == "csv" else {}
        n = WRITERS[fmt](tmp, counted(rows(session, filters)), **kwargs)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return n
