"""Deduplication benchmark: our sketches against datasketch's MinHashLSH on the same 100,000 speeches.

    python bench/grouping.py [--speeches 100000] [--workdir /tmp/dedup-bench] [--sweep]

The corpus is generated from the evaluation gold texts: distinct "originals" are built from their
clauses with a quarter of the characters replaced (so originals share stock phrases but are
different speeches), then each original circulates as 1–8 copies the way sites carry them (as
published, traditional script, truncated, middle omitted, excerpt, lightly edited). Every method
runs in its own subprocess so peak RSS is its own. Pairwise precision/recall are against the
originals. ``--sweep`` instead measures shingle size, sample rate and threshold on the labelled set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import subprocess
import sys
import time
from collections import Counter
from math import comb
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from archive.dedup.compare import comparison_form  # noqa: E402
from archive.dedup.grouping import DisjointSets  # noqa: E402
from bench.memory import peak_rss_mb  # noqa: E402
from tests.dedup.labelled import bases, labelled_set, variants  # noqa: E402

THRESHOLD_LSH = 0.5  # datasketch's Jaccard threshold: the best recall it reached without losing precision


def generate(n: int, seed: int = 7, compilations: float = 0.01) -> list[tuple[int, str]]:
    """(original id, text) for ``n`` speeches; a share of them are compilations (two or three
    earlier originals run together, a document of their own, id below zero)."""
    rng = random.Random(seed)
    corpus = bases()
    clauses = [c for t in corpus for c in re.split(r"(?<=[,。;:!?])", t.replace("\n", "")) if len(c) >= 4]
    chars = [c for c in "".join(corpus) if "\u4e00" <= c <= "\u9fff"]
    out: list[tuple[int, str]] = []
    originals: list[str] = []
    original = 0
    while len(out) < n:
        paras = []
        for _ in range(rng.randint(12, 30)):
            para = "".join(rng.choice(clauses) for _ in range(rng.randint(2, 6)))
            paras.append("".join(rng.choice(chars) if rng.random() < 0.25 else c for c in para))
        copies = variants(original, "\n".join(paras))
        for doc in rng.sample(copies, min(len(copies), rng.choice([1, 1, 2, 3, 4, 5, 6]))):
            out.append((original, doc.text))
        originals.append(copies[0].text)
        original += 1
        if len(originals) > 3 and rng.random() < compilations * 3:  # ~3 speeches an original
            out.append((-original, "\n".join(rng.sample(originals[-200:], rng.choice([2, 3])))))
    return out[:n]


def scores(truth: list[int], groups: list[int]) -> tuple[float, float]:
    """Pairwise precision and recall by counting, not by enumerating pairs."""
    together = sum(comb(k, 2) for k in Counter(groups).values())
    same = sum(comb(k, 2) for k in Counter(truth).values())
    both = sum(comb(k, 2) for k in Counter(zip(truth, groups, strict=True)).values())
    return (both / together if together else 1.0), (both / same if same else 1.0)


def components(n: int, edges: list[tuple[int, int]]) -> list[int]:
    sets = DisjointSets(n)
    for a, b in edges:
        sets.union(a, b)
    return [sets.find(x) for x in range(n)]


def run_ours(texts: list[str]) -> list[int]:
    from archive.dedup.grouping import fingerprint, group_sketches, in_text_order

    prints = [fingerprint(t) for t in texts]
    lengths = np.asarray([len(s) for s, _ in prints], dtype=np.int64)
    _, _, parts, _ = group_sketches(np.concatenate([s for s, _ in prints]), lengths, [d for _, d in prints], 0.55,
                                    in_order=lambda x: in_text_order(texts[x]))
    group = [0] * len(texts)
    for g, members in enumerate(parts):
        for m in members:
            group[m] = g
    return group


def run_datasketch(texts: list[str]) -> list[int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=THRESHOLD_LSH, num_perm=128)
    edges = []
    for i, t in enumerate(texts):
        form = comparison_form(t)
        m = MinHash(num_perm=128)
        m.update_batch([form[k:k + 8].encode() for k in range(max(1, len(form) - 7))])
        edges.extend((i, j) for j in lsh.query(m))
        lsh.insert(i, m)
    return components(len(texts), edges)


def run_ensemble(texts: list[str]) -> list[int]:
    """datasketch's containment index: each speech asks which indexed texts contain it."""
    from datasketch import MinHash, MinHashLSHEnsemble

    shingles = []
    for t in texts:
        form = comparison_form(t)
        shingles.append({form[k:k + 8].encode() for k in range(max(1, len(form) - 7))})
    hashes = MinHash.bulk(shingles, num_perm=128)
    index = MinHashLSHEnsemble(threshold=0.55, num_perm=128, num_part=16)
    index.index((i, m, len(s)) for i, (m, s) in enumerate(zip(hashes, shingles, strict=True)))
    edges = [(i, j) for i, (m, s) in enumerate(zip(hashes, shingles, strict=True)) for j in index.query(m, len(s))]
    return components(len(texts), edges)


def run_archive(texts: list[str], workdir: Path, incremental: int) -> dict:
    """The real thing: ``grouping.rebuild`` over a SQLite archive, then new speeches one by one."""
    from datetime import UTC, datetime

    from sqlalchemy import func, insert, select

    from archive import fulltext
    from archive.dedup import grouping
    from archive.storage import store
    from archive.storage.db import open_archive, sessions
    from archive.storage.models import Capture, Speech
    from cleaners.chars import fold

    path = workdir / f"archive-{len(texts)}.sqlite3"
    path.unlink(missing_ok=True)
    engine = open_archive(f"sqlite:///{path}", writer=True)
    now = datetime.now(UTC)
    with sessions(engine)() as session:
        source = store.ensure_source(session, "bench", {})
        fetched = store.Fetched(url="http://b.cn/", final_url="http://b.cn/", canonical_url="http://b.cn/", status=200,
                                headers={}, encoding="utf-8", body=b"<html></html>", fetched_at=now)
        blob = store.save_capture(session, source, None, fetched).body_sha256
        session.execute(insert(Capture), [  # a page each: speeches of one page are cut against each other
            dict(id=i + 2, source_id=source.id, url=f"http://b.cn/{i}.html", final_url=f"http://b.cn/{i}.html",
                 canonical_url=f"http://b.cn/{i}.html", http_status=200, headers={}, encoding="utf-8",
                 body_sha256=blob, fetched_at=now) for i in range(len(texts))])
        bulk = texts[:len(texts) - incremental]
        stages: dict[str, float] = {}
        for start in range(0, len(bulk), 5000):
            session.execute(insert(Speech), [
                dict(capture_id=i + 2, source_id=source.id, index_in_page=0, site=f"site{i % 50}",
                     url=f"http://b.cn/{i}.html", title=f"讲话{i}", text=t, paragraphs=t.split("\n"),
                     script="simplified", cleaner_version="bench", search_text=fold(t), text_hash="",
                     captured_at=now) for i, t in enumerate(bulk[start:start + 5000], start)])
        fulltext.rebuild(session.connection())  # bulk inserts skip the ORM events that keep it current
        session.commit()
        started = time.perf_counter()
        last = [started]

        def timed(name: str, _done: int, _total: int) -> None:
            """Time since the last report belongs to the stage reporting progress now."""
            now = time.perf_counter()
            stages[name] = stages.get(name, 0.0) + now - last[0]
            last[0] = now

        grouping.rebuild(session, progress=timed)
        timed("the rest", 0, 0)
        session.commit()
        timed("commit", 0, 0)
        rebuild_s = time.perf_counter() - started
        started = time.perf_counter()
        for i, t in enumerate(texts[len(bulk):], len(bulk)):
            speech = Speech(capture_id=i + 2, source_id=source.id, index_in_page=0, site="new", url=f"http://n/{i}",
                            title="x", text=t, paragraphs=t.split("\n"), script="simplified", cleaner_version="bench",
                            search_text=fold(t), text_hash="", captured_at=now)
            session.add(speech)
            session.flush()
            grouping.assign_group(session, speech)
            session.commit()
        incremental_s = time.perf_counter() - started
        groups = [g for _, g in session.execute(select(Speech.capture_id, Speech.group_id)
                                                .where(Speech.index_in_page >= 0).order_by(Speech.capture_id))]
        flagged = session.scalar(select(func.count()).select_from(Speech).where(Speech.compilation))
        pieces = session.scalar(select(func.count()).select_from(Speech).where(Speech.index_in_page < 0))
    engine.dispose()
    return {"groups": groups, "rebuild_s": rebuild_s, "incremental_per_s": incremental / incremental_s,
            "db_mb": path.stat().st_size / 1e6, "stages": stages, "flagged": flagged, "pieces": pieces}


def child(method: str, corpus: Path, workdir: Path, incremental: int) -> None:
    data = [json.loads(line) for line in corpus.open(encoding="utf-8")]
    truth, texts = [d[0] for d in data], [d[1] for d in data]
    started = time.perf_counter()
    extra: dict = {}
    if method == "ours":
        groups = run_ours(texts)
    elif method == "datasketch":
        groups = run_datasketch(texts)
    elif method == "ensemble":
        groups = run_ensemble(texts)
    else:
        extra = run_archive(texts, workdir, incremental)
        groups = extra.pop("groups")
    seconds = time.perf_counter() - started
    precision, recall = scores(truth, groups)
    print(json.dumps({"seconds": seconds, "precision": precision, "recall": recall,
                      "rss_mb": peak_rss_mb(), **extra}))


def sweep() -> None:
    """P/R for the sketch's parameters (in memory, the batch path) on the labelled set and on 5,000
    generated speeches, whose originals share stock phrases."""
    from archive.dedup.grouping import group_sketches
    from archive.dedup.sketch import sketch_of_form

    sets = {"labelled": [(d.base, d.text) for d in labelled_set()], "generated 5k": generate(5000, seed=11)}
    print(f"{'set':<13} {'shingle':>7} {'1 in m':>6} {'threshold':>9} {'precision':>9} {'recall':>7} {'sketch':>6}")
    for name, data in sets.items():
        truth, forms = [t for t, _ in data], [comparison_form(text) for _, text in data]
        for size in (5, 8, 12):
            for mod in (4, 8, 16, 32):
                sketches = [sketch_of_form(f, size, mod) for f in forms]
                lengths = np.asarray([len(s) for s in sketches], dtype=np.int64)
                for threshold in (0.35, 0.55, 0.75):
                    _, _, parts = group_sketches(np.concatenate(sketches), lengths, [str(i) for i in range(len(forms))],
                                                 threshold)
                    group = {m: g for g, ms in enumerate(parts) for m in ms}
                    p, r = scores(truth, [group[i] for i in range(len(forms))])
                    print(f"{name:<13} {size:>7} {mod:>6} {threshold:>9} {p:>9.4f} {r:>7.4f} {lengths.mean():>6.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speeches", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dedup-bench"))
    parser.add_argument("--incremental", type=int, default=1000, help="speeches added one by one after the rebuild")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--ensemble-max", type=int, default=20_000,
                        help="largest run given to LSHEnsemble, which keeps every shingle set in memory")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    corpus = args.workdir / f"corpus-{args.speeches}.jsonl"
    if args.child:
        child(args.child, corpus, args.workdir, args.incremental)
        return
    if args.sweep:
        sweep()
        return
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    if not corpus.exists():
        started = time.perf_counter()
        data = generate(args.speeches)
        with corpus.open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in data)
        originals = len({d[0] for d in data})
        print(f"# generated {len(data)} speeches of {originals} originals, "
              f"{sum(len(d[1]) for d in data) / len(data):.0f} characters on average, "
              f"in {time.perf_counter() - started:.0f}s")
    print(f"{'method':<34} {'seconds':>8} {'speeches/s':>10} {'peak RSS MB':>11} {'precision':>9} {'recall':>7}")
    for method, label in (("ours", "ours, in memory (group_sketches)"),
                          ("datasketch", f"datasketch MinHashLSH t={THRESHOLD_LSH} p=128"),
                          ("ensemble", "datasketch LSHEnsemble c=0.55 p=128"),
                          ("archive", "ours, SQLite archive (rebuild+add)")):
        if method == "ensemble" and args.speeches > args.ensemble_max:
            print(f"{label:<34} skipped above --ensemble-max {args.ensemble_max}")
            continue
        done = subprocess.run([sys.executable, __file__, "--child", method, "--speeches", str(args.speeches),
                               "--workdir", str(args.workdir), "--incremental", str(args.incremental)],
                              capture_output=True, text=True)
        if done.returncode:
            print(f"{label:<34} failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{label:<34} {r['seconds']:>8.1f} {args.speeches / r['seconds']:>10.0f} {r['rss_mb']:>11.0f} "
              f"{r['precision']:>9.4f} {r['recall']:>7.4f}")
        if method == "archive":
            print(f"#   of which rebuild {r['rebuild_s']:.1f}s; then {r['incremental_per_s']:.1f} speeches/s added one "
                  f"by one (assign_group + commit each); archive file {r['db_mb']:.0f} MB")
            n = args.speeches - args.incremental
            print("#   rebuild by stage, ms per speech: " + ", ".join(
                f"{name} {seconds * 1000 / n:.2f}" for name, seconds in r["stages"].items()))
            print(f"#   compilations flagged {r['flagged']}, cut into {r['pieces']} speeches by their copies")


if __name__ == "__main__":
    main()
