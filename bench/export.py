"""Export benchmark: rows/s and peak RSS for each format, at two archive sizes.

    python bench/export.py [--sizes 10000,100000] [--workdir /tmp/export-bench]

Builds SQLite archives of N speeches (texts from the evaluation set, varied so no two rows are
equal) with plain inserts, then runs each export in a fresh subprocess and reads its peak RSS:
flat memory means the figure does not grow with N.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from archive.storage import store  # noqa: E402
from archive.storage.db import open_archive, sessions  # noqa: E402
from archive.storage.models import Speech  # noqa: E402
from cleaners.chars import fold  # noqa: E402
from tests.dedup.labelled import bases  # noqa: E402


def build(path: Path, n: int) -> None:
    if path.exists():
        return
    engine = open_archive(f"sqlite:///{path}")
    texts = bases()
    now = datetime.now(UTC)
    with sessions(engine)() as session:
        source = store.ensure_source(session, "bench", {})
        fetched = store.Fetched(url="http://b.cn/", final_url="http://b.cn/", canonical_url="http://b.cn/",
                                status=200, headers={}, encoding="utf-8", body=b"<html></html>", fetched_at=now)
        capture = store.save_capture(session, source, None, fetched)
        session.commit()
        batch = []
        for i in range(n):
            text = f"第{i}号讲话。\n" + texts[i % len(texts)]
            batch.append(dict(capture_id=capture.id, source_id=source.id, index_in_page=i, site=f"site{i % 50}",
                              url=f"http://b.cn/{i}.html", title=f"讲话{i}", text=text, paragraphs=text.split("\n"),
                              script="simplified", cleaner_version="bench", search_text=fold(text), text_hash=str(i),
                              captured_at=now, created_at=now, updated_at=now))
            if len(batch) == 5000:
                session.execute(insert(Speech), batch)
                batch = []
        if batch:
            session.execute(insert(Speech), batch)
        session.commit()
    engine.dispose()


def run_export(db: Path, fmt: str, out: Path, segment: bool = False) -> tuple[float, float]:
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\nfrom bench.memory import peak_rss_mb\n"
            "from archive.storage.db import open_archive, sessions\nfrom archive.export.write import export\n"
            f"e = open_archive('sqlite:///{db}')\ns = sessions(e)()\n"
            f"export(s, {fmt!r}, __import__('pathlib').Path({str(out)!r}), segment={segment})\n"
            "print(peak_rss_mb())\n")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return time.perf_counter() - started, float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/export-bench"))
    parser.add_argument("--segment-up-to", type=int, default=10000,
                        help="Also time the word-segmented Parquet export for archives up to this size (it is slow).")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'speeches':>9} {'format':<14} {'seconds':>8} {'rows/s':>8} {'peak RSS MB':>12} {'file MB':>8}")
    for n in (int(x) for x in args.sizes.split(",")):
        db = args.workdir / f"archive-{n}.sqlite3"
        started = time.perf_counter()
        build(db, n)
        print(f"# built {n} speeches in {time.perf_counter() - started:.0f}s ({db.stat().st_size / 1e6:.0f} MB)")
        runs = [("jsonl", False), ("csv", False), ("parquet", False)]
        if n <= args.segment_up_to:
            runs.append(("parquet", True))
        for fmt, segment in runs:
            out = args.workdir / f"out-{n}{'-words' if segment else ''}.{fmt}"
            seconds, rss_mb = run_export(db, fmt, out, segment)
            print(f"{n:>9} {fmt + ('+words' if segment else ''):<14} {seconds:>8.1f} {n / seconds:>8.0f} {rss_mb:>12.0f} "
                  f"{out.stat().st_size / 1e6:>8.0f}")


if __name__ == "__main__":
    main()
