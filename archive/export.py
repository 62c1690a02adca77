"""Exports for analysis pipelines: JSONL, CSV and Parquet, streamed in batches.

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

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.models import DupGroup, Speech
from archive.search import Filters, Query, apply_filters, matching_ids, parse_query
from cleaners.chars import to_simplified

FORMATS = ("jsonl", "csv", "parquet")
SCHEMA_VERSION = "1"
FIELDS = ("id", "group_id", "is_canonical", "title", "text", "paragraphs", "speaker", "speech_date",
          "publish_date", "occasion", "region", "site", "url", "captured_at", "updated_at", "cleaner_version",
          "truncated", "stated_length", "mojibake", "needs_review", "script", "text_simplified", "reconstructed_text")
_DERIVED = {"is_canonical", "text_simplified", "reconstructed_text"}
_SPEECH_COLUMNS = tuple(name for name in FIELDS if name not in _DERIVED)


def utc_iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z; SQLite hands back naive datetimes, which are UTC here."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rows(session: Session, filters: Filters | None = None, batch: int = 500,
         query: Query | None = None) -> Iterator[dict]:
    """Speeches passing ``filters`` (and containing ``query``, if given) as export rows, oldest id first.

    Plain columns, not ORM entities: a streamed entity stays in the session's identity map, so
    memory would grow with the archive."""
    columns = [getattr(Speech, name) for name in _SPEECH_COLUMNS]
    stmt = apply_filters(select(*columns, DupGroup.canonical_id, DupGroup.reconstruction)
                         .outerjoin(DupGroup, DupGroup.id == Speech.group_id), filters or Filters()).order_by(Speech.id)
    if query is not None:
        stmt = stmt.where(Speech.id.in_(matching_ids(query, session.get_bind().dialect.name)))
    for record in session.execute(stmt.execution_options(yield_per=batch)).mappings():
        row = {name: record[name] for name in _SPEECH_COLUMNS}
        canonical = record["canonical_id"] == row["id"]
        rebuilt = record["reconstruction"]
        row.update({
            "is_canonical": canonical, "paragraphs": list(row["paragraphs"]),
            "captured_at": utc_iso(row["captured_at"]), "updated_at": utc_iso(row["updated_at"]),
            "text_simplified": to_simplified(row["text"]),
            # on the canonical row of a group whose copies are all incomplete: their assembled text
            "reconstructed_text": "\n".join(p["text"] for p in rebuilt["paragraphs"]) if canonical and rebuilt else None,
        })
        yield {name: row[name] for name in FIELDS}


def _jsonl(path: Path, data: Iterator[dict]) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in data:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def csv_row(row: dict) -> dict:
    """An export row as CSV cells: the paragraph list becomes a JSON array in one cell."""
    return {**row, "paragraphs": json.dumps(row["paragraphs"], ensure_ascii=False)}


def _csv(path: Path, data: Iterator[dict], bom: bool = False) -> int:
    n = 0
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for row in data:
            writer.writerow(csv_row(row))
            n += 1
    return n


def _parquet(path: Path, data: Iterator[dict], batch: int = 1000) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("id", pa.int64()), ("group_id", pa.int64()), ("is_canonical", pa.bool_()),
                        ("title", pa.string()), ("text", pa.string()), ("paragraphs", pa.list_(pa.string())),
                        ("speaker", pa.string()), ("speech_date", pa.string()), ("publish_date", pa.string()),
                        ("occasion", pa.string()), ("region", pa.string()), ("site", pa.string()),
                        ("url", pa.string()), ("captured_at", pa.string()), ("updated_at", pa.string()),
                        ("cleaner_version", pa.string()),
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


@dataclass(frozen=True)
class ExportResult:
    rows: int
    manifest: Path
    cursor_to: str | None  # the latest updated_at exported: where the next incremental export starts


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
           query: str | None = None) -> ExportResult:
    """Write every matching speech to ``out`` in ``fmt``, then its manifest beside it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    if not out.parent.is_dir():
        raise ValueError(f"folder for the export does not exist: {out.parent}")
    filters = filters or Filters()
    parsed = parse_query(query) if query else None  # a bad query fails before any file is written
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
        kwargs = {"bom": bom} if fmt == "csv" else {}
        n = WRITERS[fmt](tmp, counted(rows(session, filters, query=parsed)), **kwargs)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    since = utc_iso(filters.changed_since)
    cursor_to = latest[0] if latest else since
    manifest = out.with_name(out.name + ".manifest.json")
    write_atomic(manifest, json.dumps({
        "schema_version": SCHEMA_VERSION, "format": fmt, "created_at": utc_iso(datetime.now(UTC)),
        "filters": {"query": query or None,
                    **{k: (utc_iso(v) if isinstance(v, datetime) else v) for k, v in asdict(filters).items()}},
        "rows": n, "files": [{"path": out.name, "bytes": out.stat().st_size, "sha256": _sha256(out)}],
        "cursor_from": since, "cursor_to": cursor_to,
    }, ensure_ascii=False, indent=2) + "\n")
    return ExportResult(n, manifest, cursor_to)
