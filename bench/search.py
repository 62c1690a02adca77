"""Search benchmark: query latency on 100,000 speeches, index against a full scan, both backends.

    python bench/search.py [--speeches 100000] [--backends sqlite,postgresql] [--workdir /tmp/search-bench]

Speeches come from the dedup benchmark's generator (clauses of the evaluation gold texts, a quarter
of the characters replaced, copies in both scripts). Queries are 1-, 2- and 4-character substrings
and 8-character phrases drawn from the texts. For each query: the latency of the first page of
results (20 by relevance, 20 by date), of the facet counts and of every matching id through the
index, the latency of a full scan (``instr`` / ``strpos``), and whether the index found every
speech the scan found.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from archive import fulltext  # noqa: E402
from archive.query.search import ORDERS, Filters, facets, matching_ids, parse_query, rank_window, results  # noqa: E402
from archive.query.trend import trend  # noqa: E402
from archive.storage import store  # noqa: E402
from archive.storage.db import at_head, open_archive, sessions, vacuum  # noqa: E402
from archive.storage.models import Speech, search_text_of  # noqa: E402
from bench.dedup import generate  # noqa: E402
from cleaners.chars import fold, script_of  # noqa: E402

PG = os.environ.get("SPEECH_ARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def behind(url: str) -> bool:
    """Whether a kept archive is not at the newest migration. It is built again, not migrated:
    migrating would regroup its speeches, which the bench stores ungrouped with ids of its own (the
    ids PostgreSQL's sequence would hand the new versions are taken)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        old = not at_head(conn)
    engine.dispose()
    return old


def build(url: str, texts: list[str]) -> float:
    engine = open_archive(url)
    started = time.perf_counter()
    with sessions(engine)() as session:
        if session.scalar(select(func.count()).select_from(Speech)) == len(texts):
            return 0.0
        source = store.ensure_source(session, "bench", {})
        now = datetime.now(UTC)
        fetched = store.Fetched(url="http://b.cn/", final_url="http://b.cn/", canonical_url="http://b.cn/", status=200,
                                headers={}, encoding="utf-8", body=b"<html></html>", fetched_at=now)
        capture = store.save_capture(session, source, None, fetched)
        conn = session.connection()
        index = fulltext.index_for(conn.dialect.name)
        with index.bulk_load(conn):
            for start in range(0, len(texts), 2000):
                batch = []
                for i, t in enumerate(texts[start:start + 2000], start):
                    title = f"讲话{i}"
                    batch.append(dict(id=i + 1, capture_id=capture.id, source_id=source.id, index_in_page=i,
                                      site=f"site{i % 40}", url=f"http://b.cn/{i}.html", title=title, text=t,
                                      paragraphs=t.split("\n"), script=script_of(t), cleaner_version="bench",
                                      speech_date=f"{2000 + i % 25}-01-01", search_text=search_text_of(title, t),
                                      text_hash=str(i), captured_at=now))
                conn.execute(insert(Speech.__table__), batch)
                index.add(conn, [(b["id"], b["search_text"]) for b in batch])
                print(f"\r  indexed {start + len(batch)}", end="", file=sys.stderr)
        session.commit()
    vacuum(engine)  # as autovacuum leaves a loaded archive a minute later (PostgreSQL)
    print(file=sys.stderr)
    engine.dispose()
    return time.perf_counter() - started


def draw(texts: list[str], size: int, n: int, rng: random.Random) -> list[str]:
    out = []
    while len(out) < n:
        t = fold(rng.choice(texts))
        start = rng.randrange(max(1, len(t) - size))
        piece = t[start:start + size]
        if len(piece) == size and piece.strip() == piece and not set(piece) & set('"“”-\n ') and \
                piece.upper() not in ("OR", "NOT", "AND"):
            out.append(piece if size <= 4 else f'"{piece}"')
    return out


def timed(fn) -> tuple[float, object]:  # noqa: ANN001
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def measure(url: str, queries: dict[str, list[str]]) -> None:
    """Each kind's latencies on the archive at ``url``. Nothing measured waits on a garbage
    collection of the bench's own data: what exists is frozen out of the collector's scans, and
    the ids kept for the recall check are flat arrays, not sets of 100,000 ints, which a full
    collection walked (69–152 ms pauses, each landing on a timed query, in a server holding none of them)."""
    gc.collect()
    gc.freeze()
    engine = open_archive(url, migrate=False)
    dialect = engine.dialect.name
    scan_fn = "instr(search_text, :t) > 0" if dialect == "sqlite" else "strpos(search_text, :t) > 0"
    with sessions(engine)() as session:
        for kind, qs in queries.items():
            page, by_date, facet, count, scan, recall_ok, matches, trends = [], [], [], [], [], 0, [], []
            for order in ORDERS:  # untimed: a statement's first run in a process pays its compilation (~50 ms)
                results(session, parse_query(qs[0]), limit=20, order=order)
            found = []
            for i, q in enumerate(qs):
                query = parse_query(q)
                ms, _ = timed(lambda: results(session, query, limit=20))
                page.append(ms)
                ms, _ = timed(lambda: results(session, query, limit=20, order="date"))
                by_date.append(ms)
                ms, _ = timed(lambda: facets(session, query))
                facet.append(ms)
                pair = [q, qs[(i + 1) % len(qs)]]  # every copy: the generated archive has no groups
                ms, _ = timed(lambda: trend(session, pair, filters=Filters()))
                trends.append(ms)
                ids_stmt = matching_ids(query, dialect)
                ms, ids = timed(lambda: set(session.scalars(ids_stmt)))
                count.append(ms)
                found.append(array("q", sorted(ids)))  # kept flat: see measure()
            # the scans apart, after: each reads every text, and would leave the next query a cache
            # no searching server has (PostgreSQL's shared buffers emptied of the newest speeches)
            for q, ids in zip(qs, found, strict=True):
                ms, truth = timed(lambda: set(session.scalars(select(Speech.id).where(text(scan_fn))
                                                              .params(t=parse_query(q).terms[0]))))
                scan.append(ms)
                recall_ok += ids == array("q", sorted(truth))
                matches.append(len(truth))
            p = lambda xs, k: statistics.quantiles(xs, n=100)[k - 1] if len(xs) > 1 else xs[0]  # noqa: E731
            print(f"{dialect:<10} {kind:<9} {len(qs):>3} {statistics.median(matches):>8.0f} "
                  f"{p(page, 50):>7.1f} {p(page, 95):>7.1f} {p(by_date, 50):>7.1f} {p(by_date, 95):>7.1f} "
                  f"{p(facet, 95):>8.1f} {p(trends, 95):>7.1f} {p(count, 50):>8.1f} {p(count, 95):>8.1f} "
                  f"{p(scan, 50):>7.0f} {p(scan, 95):>7.0f} {recall_ok:>4}/{len(qs)}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeches", type=int, default=100_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--queries", type=int, default=40, help="queries of each kind")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/search-bench"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    texts = [t for _, t in generate(args.speeches)]
    rng = random.Random(5)
    queries = {"1 char": draw(texts, 1, args.queries, rng), "2 chars": draw(texts, 2, args.queries, rng),
               "4 chars": draw(texts, 4, args.queries, rng), "phrase 8": draw(texts, 8, args.queries, rng)}
    urls = {"sqlite": f"sqlite:///{args.workdir / f'archive-{args.speeches}.sqlite3'}",
            "postgresql": f"{PG}?options=-csearch_path%3Dsearch_bench_{args.speeches}"}
    print(f"{'backend':<10} {'query':<9} {'n':>3} {'matches':>8} {'page50':>7} {'page95':>7} {'date50':>7} "
          f"{'date95':>7} {'facets95':>8} {'trend95':>7} {'all50':>8} {'all95':>8} {'scan50':>7} {'scan95':>7} {'same as scan':>12}")
    print(f"(ms; page = first 20 by relevance, ranked among the newest {rank_window()} matches; date = first 20 by "
          "date; facets = counts by site/year/speaker; trend = two terms by year; all = every matching id; scan = instr/strpos over all rows)")
    for backend in args.backends.split(","):
        if backend == "postgresql":
            admin = open_archive(PG, migrate=False)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS search_bench_{args.speeches}"))
            if behind(urls[backend]):
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA search_bench_{args.speeches} CASCADE"))
                    conn.execute(text(f"CREATE SCHEMA search_bench_{args.speeches}"))
            admin.dispose()
        elif behind(urls[backend]):
            for suffix in ("", "-wal", "-shm"):
                (args.workdir / f"archive-{args.speeches}.sqlite3{suffix}").unlink(missing_ok=True)
        seconds = build(urls[backend], texts)
        if seconds:
            print(f"# {backend}: built and indexed {len(texts)} speeches in {seconds:.0f}s")
        measure(urls[backend], queries)


if __name__ == "__main__":
    main()
