"""Exports for analysis pipelines — JSONL, CSV and Parquet — and for archivists — the raw captures
as WARC — streamed in batches.

Rows are read with ``yield_per`` and written as they come, so memory stays flat; the file is
written under a temporary name and renamed only when complete, so an interrupted export never
leaves a half-written file under the final name.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from archive import fulltext
from archive.export import warc
from archive.export.record import COLUMNS, FIELDS, SEGMENTED, STORED, utc_iso
from archive.query.search import Filters, Query, apply_filters, index_ids, parse_query
from archive.query.segment import require_segmenter, segmenter
from archive.storage.models import Capture, DupGroup, Speech
from cleaners.chars import to_simplified

FORMATS = ("jsonl", "csv", "parquet", "warc")
SCHEMA_VERSION = "2"


def fields(segment: bool = False) -> tuple[str, ...]:
    return FIELDS + ((SEGMENTED.name,) if segment else ())


def arrow_schema(segment: bool = False):  # noqa: ANN201 - pyarrow is imported lazily
    import pyarrow as pa

    kinds = {"integer": pa.int64(), "string": pa.string(), "boolean": pa.bool_(), "strings": pa.list_(pa.string())}
    return pa.schema([pa.field(c.name, kinds[c.kind], nullable=c.nullable)
                      for c in COLUMNS + ((SEGMENTED,) if segment else ())])


def rows(session: Session, filters: Filters | None = None, batch: int = 500,
         query: Query | None = None, segment: bool = False) -> Iterator[dict]:
    """Speeches passing ``filters`` (and containing ``query``, if given) as export rows, oldest id first.

    Plain columns, not ORM entities: a streamed entity stays in the session's identity map, so
    memory would grow with the archive. ``segment`` adds the words of the simplified text."""
    words = segmenter() if segment else None
    names = fields(segment)
    columns = [getattr(Speech, name) for name in STORED]
    stmt = apply_filters(select(*columns, DupGroup.canonical_id, DupGroup.reconstruction)
                         .outerjoin(DupGroup, DupGroup.id == Speech.group_id), filters or Filters()).order_by(Speech.id)
    if query is not None:
        stmt = stmt.where(Speech.id.in_(index_ids(query, fulltext.ready(session))))
    for record in session.execute(stmt.execution_options(yield_per=batch)).mappings():
        row = {name: record[name] for name in STORED}
        canonical = record["canonical_id"] == row["id"]
        rebuilt = record["reconstruction"]
        row.update({
            "is_canonical": canonical, "paragraphs": list(row["paragraphs"]),
            "captured_at": utc_iso(row["captured_at"]), "updated_at": utc_iso(row["updated_at"]),
            "text_simplified": to_simplified(row["text"]),
            # on the canonical row of a group whose copies are all incomplete: their assembled text
            "reconstructed_text": "\n".join(p["text"] for p in rebuilt["paragraphs"]) if canonical and rebuilt else None,
        })
        if words:
            row[SEGMENTED.name] = words(row["text_simplified"])
        yield {name: row[name] for name in names}


def _jsonl(path: Path, data: Iterator[dict], segment: bool = False) -> int:  # noqa: ARG001 - rows carry it
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in data:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def csv_row(row: dict) -> dict:
    """An export row as CSV cells: the paragraph list becomes a JSON array in one cell."""
    return {**row, "paragraphs": json.dumps(row["paragraphs"], ensure_ascii=False)}


def _csv(path: Path, data: Iterator[dict], segment: bool = False, bom: bool = False) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields(segment))
        writer.writeheader()
        for row in data:
            writer.writerow(csv_row(row))
            n += 1
    return n


def _parquet(path: Path, data: Iterator[dict], segment: bool = False, batch: int = 1000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(segment)
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


@dataclass(frozen=True)
class ExportResult:
    rows: int
    manifest: Path
    cursor_to: str | None  # the latest updated_at exported: where the next incremental export starts


def _matching(session: Session, filters: Filters, query: Query | None, column) -> Select:  # noqa: ANN001
    """``column`` (of Speech) of the speeches passing ``filters`` and containing ``query``."""
    stmt = apply_filters(select(column), filters)
    return stmt if query is None else stmt.where(Speech.id.in_(index_ids(query, fulltext.ready(session))))


def captures(session: Session, filters: Filters, query: Query | None, batch: int = 200) -> Iterator[Capture]:
    """The captures holding a matching speech, with the later pages of theirs, oldest first; with
    no filter and no query, every capture (pages that gave no speech too: an archive keeps them)."""
    stmt = select(Capture).order_by(Capture.id)
    if filters != Filters() or query is not None:
        held = _matching(session, filters, query, Speech.capture_id)
        stmt = stmt.where(or_(Capture.id.in_(held), Capture.root_id.in_(held)))
    for capture in session.scalars(stmt.execution_options(yield_per=batch)):
        yield capture
        session.expunge(capture.blob)  # a streamed entity would stay in the identity map
        session.expunge(capture)


def _latest_change(session: Session, filters: Filters, query: Query | None) -> datetime | None:
    return session.scalar(_matching(session, filters, query, func.max(Speech.updated_at)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def export(session: Session, fmt: str, out: Path, filters: Filters | None = None, bom: bool = False,
           progress: Callable[[int], None] | None = None, progress_every: int = 500,
           query: str | None = None, segment: bool = False) -> ExportResult:
    """Write every matching speech to ``out`` in ``fmt``, then its manifest beside it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise ValueError(f"folder for the export does not exist: {out.parent}")
    filters = filters or Filters()
    parsed = parse_query(query) if query else None  # a bad query fails before any file is written
    if segment:
        require_segmenter()
    tmp = out.with_name(f".{out.name}.part")
    latest: list[str] = []

    def counted(data: Iterator[dict]) -> Iterator[dict]:
        for i, row in enumerate(data, 1):
            if progress and i % progress_every == 0:
                progress(i)
            if row["updated_at"] and (not latest or row["updated_at"] > latest[0]):
                latest[:] = [row["updated_at"]]
            yield row

    try:
        if fmt == "warc":
            n = warc.write_warc(tmp, captures(session, filters, parsed), out.name)
            latest[:] = [utc_iso(_latest_change(session, filters, parsed))] if n else []
        else:
            kwargs = {"bom": bom} if fmt == "csv" else {}
            n = WRITERS[fmt](tmp, counted(rows(session, filters, query=parsed, segment=segment)), segment=segment, **kwargs)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    since = utc_iso(filters.changed_since)
    cursor_to = latest[0] if latest else since
    manifest = out.with_name(out.name + ".manifest.json")
    write_atomic(manifest, json.dumps({
        "schema_version": SCHEMA_VERSION, "format": fmt, "created_at": utc_iso(datetime.now(UTC)),
        "columns": [] if fmt == "warc" else list(fields(segment)),
        "filters": {"query": query or None,
                    **{k: (utc_iso(v) if isinstance(v, datetime) else v) for k, v in asdict(filters).items()}},
        "rows": n, "files": [{"path": out.name, "bytes": out.stat().st_size, "sha256": _sha256(out)}],
        "cursor_from": since, "cursor_to": cursor_to,
    }, ensure_ascii=False, indent=2) + "\n")
    return ExportResult(n, manifest, cursor_to)
