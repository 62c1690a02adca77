"""Crawl benchmark: what archiving costs over fetching, on one generated site of speech pages.

    python bench/crawl.py [--pages 1000] [--concurrency 8] [--rounds 1] [--kinds "bare,crawl sqlite,reclean 2,…"]
    python bench/crawl.py --profile            # where the reactor's and the writer's CPU goes, by stage

Runs on the same local site (no latency, delay 0, the same concurrency), interleaved: a bare
Scrapy spider that only fetches the list and article pages; the same spider calling
``trafilatura.extract`` on every article; ``speech-archive crawl`` into a fresh SQLite file and
into a fresh PostgreSQL schema; then ``speech-archive reclean`` of the SQLite crawl's archive on
one process and on two (pages/s there is captures recleaned per second, in the time reclean reports
for its work: the process's start apart, which no number of cores shortens). Each runs in a process of its own, so
CPU seconds (user + system, with every process it started) and peak RSS are its own. PostgreSQL's
server CPU is not counted. ``--profile`` sums the CPU of the reactor's thread and of the writer's
path by stage, under cProfile.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.server import LocalServer  # noqa: E402
from tests.dedup.labelled import bases  # noqa: E402
from tests.sites import TITLES  # noqa: E402

PG = os.environ.get("SPEECH_ARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PER_LIST = 50
PLACES = "东西南北中"


def sentences() -> tuple[list[str], list[str]]:
    """The gold texts' sentences, and their characters to vary them with."""
    corpus = bases()
    return ([s + "。" for text in corpus for s in re.split(r"[。\n]", text) if len(s) > 8],
            [c for c in "".join(corpus) if "\u4e00" <= c <= "\u9fff"])


def article(n: int, pool: tuple[list[str], list[str]]) -> bytes:
    """The n-th speech page: a text of its own (gold sentences drawn by a seeded generator, a
    quarter of their characters replaced, as bench/dedup.py makes distinct speeches) in a real
    site's chrome of breadcrumbs, date line, neighbours and a related list."""
    rng = random.Random(n)
    said, chars = pool
    title = f"{PLACES[n % 5]}区第{n + 1}次{TITLES[n % len(TITLES)][1:]}"
    paras = ["".join(rng.choice(chars) if rng.random() < 0.25 else c for c in "".join(rng.sample(said, rng.randint(2, 5))))
             for _ in range(rng.randint(8, 20))]
    related = "".join(f"<li><a href='/a/{(n + k) % 997}.html'>{TITLES[k]}</a></li>" for k in range(1, 6))
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f"<html><head><meta charset='utf-8'><title>{title}_范文网</title></head><body>"
            f"<div class='nav'><a href='/'>首页</a> > <a href='/list/0.html'>讲话稿</a> > 正文</div>"
            f"<div class='article'><h1>{title}</h1><div class='info'>发布时间：2024-0{n % 9 + 1}-1{n % 10}"
            f" 来源：范文网</div>{body}</div><div class='pager'>上一篇：<a href='/a/{max(n - 1, 0)}.html'>"
            f"上一篇讲话</a> 下一篇：<a href='/a/{n + 1}.html'>下一篇讲话</a></div>"
            f"<div class='related'><h3>相关范文</h3><ul>{related}</ul></div>"
            "<div class='footer'>版权所有 范文网 备案号：京ICP备00000000号</div></body></html>").encode()


class BenchSite(LocalServer):
    """``pages`` speech pages behind lists of ``PER_LIST`` links, each list with a pager to all the
    others (as real list pages number theirs), rendered on request."""

    def __init__(self, pages: int) -> None:
        self.pages = pages
        self.pool = sentences()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                m = re.fullmatch(r"/(list|a)/(\d+)\.html", self.path)
                n = int(m.group(2)) if m else -1
                if m and m.group(1) == "a" and n < site.pages:
                    return self._send(200, article(n, site.pool))
                if m and m.group(1) == "list" and n * PER_LIST < site.pages:
                    return self._send(200, site.listing(n))
                return self._send(404, b"<html><body>not found</body></html>")

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.handler = Handler

    def listing(self, n: int) -> bytes:
        first = n * PER_LIST
        links = "".join(f"<li><a href='/a/{k}.html'>{TITLES[k % len(TITLES)]}（{k + 1}）</a></li>"
                        for k in range(first, min(first + PER_LIST, self.pages)))
        pager = "".join(f"<a href='/list/{k}.html'>{k + 1}</a> " for k in range(-(-self.pages // PER_LIST)))
        return f"<html><body><ul>{links}</ul><div class='pages'>{pager}</div></body></html>".encode()


def source_file(site: BenchSite, folder: Path, concurrency: int) -> Path:
    path = folder / "bench.toml"
    path.write_text("\n".join([
        'name = "bench"', f'base_url = "{site.url}"', 'start_urls = ["/list/0.html"]',
        'list_patterns = ["/list/\\\\d+\\\\.html$"]', 'article_patterns = ["/a/\\\\d+\\\\.html$"]',
        f"max_pages = {site.pages * 2}", "[politeness]", "delay = 0", f"concurrency = {concurrency}",
    ]) + "\n", encoding="utf-8")
    return path


def bare(start: str, concurrency: int, extract: bool) -> None:
    """The spider a crawl is measured against: list pages followed, articles fetched (and extracted)."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class Bare(scrapy.Spider):
        name = "bare"
        start_urls = [start]

        def parse(self, response):  # noqa: ANN001, ANN201
            if "/a/" in response.url:
                if extract:
                    import trafilatura
                    trafilatura.extract(response.text)
                return
            for href in response.css("a::attr(href)").getall():
                if re.search(r"/(a|list)/\d+\.html$", href):
                    yield response.follow(href)

    process = CrawlerProcess({"CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "CONCURRENT_REQUESTS": 2 * concurrency,
                              "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
                              "ROBOTSTXT_OBEY": True})
    process.crawl(Bare)
    process.start()


def measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Seconds, CPU seconds (with descendants) and peak RSS in MB of one child process, and what it printed."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # files: a full pipe would stall it
        proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
                                stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        printed, complaint = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if status != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{complaint[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, printed


def pg_schema() -> tuple[str, object]:
    from sqlalchemy import create_engine, text

    schema = f"crawl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, admin


def drop_schema(schema: str, admin: object) -> None:
    from sqlalchemy import text

    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def speeches_in(db_url: str) -> int:
    from sqlalchemy import func, select

    from archive.storage.db import open_archive, sessions
    from archive.storage.models import Speech

    engine = open_archive(db_url)
    with sessions(engine)() as session:
        count = session.scalar(select(func.count()).select_from(Speech)) or 0
    engine.dispose()
    return count


def archiving(db_url: str, *command: str) -> tuple[float, float, float, int]:
    """Seconds, CPU s and peak RSS MB of one ``speech-archive`` command on ``db_url``, and the speeches it holds after.
    ``reclean``'s seconds are those it reports for recleaning, without the ~0.7 s the process takes
    to start (imports, opening the archive), which no number of cores shortens."""
    seconds, cpu, rss, printed = measured([sys.executable, "-m", "cli", "--db", db_url, *command])
    if command[0] == "reclean":
        seconds = float(re.search(r" in ([\d.]+) s ", printed).group(1))
    return seconds, cpu, rss, speeches_in(db_url)


def run_kind(kind: str, site: BenchSite, source: Path, folder: Path, concurrency: int) -> tuple[float, float, float, int]:
    """Seconds, CPU s, peak RSS MB and speeches archived (0 for the bare spiders) of one run."""
    if kind in ("bare", "bare+trafilatura"):
        argv = [sys.executable, __file__, "--child", kind, "--start", f"{site.url}/list/0.html",
                "--concurrency", str(concurrency)]
        return (*measured(argv)[:3], 0)
    if kind == "crawl sqlite":
        (folder / "crawled.db").unlink(missing_ok=True)
        return archiving(f"sqlite:///{folder / 'crawled.db'}", "crawl", str(source))
    if kind.startswith("reclean"):  # the last SQLite crawl's archive, copied, cleaned again on N processes
        crawled = folder / "crawled.db"
        if not crawled.exists():
            raise SystemExit("reclean is measured on the archive of a 'crawl sqlite' run: list that kind first")
        with sqlite3.connect(crawled) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy = folder / "reclean.db"
        shutil.copyfile(crawled, copy)
        return archiving(f"sqlite:///{copy}", "reclean", "--workers", kind.split()[1])
    schema, admin = pg_schema()
    try:
        return archiving(f"{PG}?options=-csearch_path%3D{schema}", "crawl", str(source))
    finally:
        drop_schema(schema, admin)


STAGES = {  # stage: (module, function) whose inclusive time is the stage's; indented stages are inside the one above
    "look up the same body": ("archive/storage/store.py", "same_body"),
    "store raw capture": ("archive/storage/store.py", "save_capture"),
    "clean": ("archive/ingest.py", "clean"),
    "  extract (decode, parse, DOM)": ("cleaners/pipeline.py", "_extract_part"),
    "  split": ("cleaners/split.py", "split_speeches"),
    "  metadata": ("cleaners/metadata.py", "take_header"),
    "learned chrome": ("archive/ingest.py", "__call__"),
    "store speeches": ("archive/storage/store.py", "save_speeches"),
    "group (dedup)": ("archive/dedup/grouping.py", "assign_group"),
    "  shingle postings": ("archive/dedup/grouping.py", "index_speech"),
    "  canonical + consensus": ("archive/dedup/grouping.py", "choose_canonical"),
    "commit": ("archive/ingest.py", "commit"),
    "  full-text index": ("archive/fulltext/__init__.py", "settle"),
}


def profile(pages: int, concurrency: int, db_url: str | None) -> None:
    """Where the CPU goes, under cProfile (which inflates Python code alike): the reactor's thread
    in a real crawl, then the writer's whole path (store raw, clean, write, group, commit) run in
    this process on the same pages, cleaning in the writer (``ingest_workers`` 1) so each stage
    shows; stages are inclusive, so they nest."""
    import cProfile
    import pstats

    from crawler.run import run_crawl
    from crawler.sources import load_source

    with tempfile.TemporaryDirectory() as tmp, BenchSite(pages) as site:
        source = load_source(str(source_file(site, Path(tmp), concurrency)))
        reactor = cProfile.Profile(time.thread_time)  # CPU of its own thread, not time spent waiting
        reactor.runcall(run_crawl, source, f"sqlite:///{Path(tmp) / 'crawled.db'}", progress=False)
        job, inbox = writer_work(site, source, db_url or f"sqlite:///{Path(tmp) / 'written.db'}")
        writer = cProfile.Profile(time.thread_time)
        writer.runcall(run_writer, job, inbox)
    reactor_ms = 1000 * pstats.Stats(reactor).total_tt / pages  # type: ignore[attr-defined]
    writer_ms = 1000 * pstats.Stats(writer).total_tt / pages  # type: ignore[attr-defined]
    print(f"{pages} pages under the profiler: reactor thread {reactor_ms:.1f} ms/page (the crawl, its writer "
          f"apart), writer {writer_ms:.1f} ms/page (cleaning in it)")
    inclusive: dict[str, float] = {}
    for (file, _, name), (_, _, _, cum, _) in pstats.Stats(writer).stats.items():  # type: ignore[attr-defined]
        for stage, (module, function) in STAGES.items():
            if name == function and file.endswith(module):
                inclusive[stage] = max(inclusive.get(stage, 0.0), cum)
    for stage in STAGES:
        print(f"{stage:<32} {1000 * inclusive.get(stage, 0.0) / pages:>7.1f} ms/page")
    pstats.Stats(writer).sort_stats("tottime").print_stats(25)


def writer_work(site: BenchSite, source: object, db_url: str) -> tuple[object, object]:
    """The archive writer's job and its inbox, holding every article of ``site``, for this process."""
    import queue
    from datetime import datetime, timezone

    from archive.storage import store
    from archive.storage.db import open_archive, sessions
    from crawler import writer
    from crawler.items import PageItem

    os.environ["SPEECH_ARCHIVE_INGEST_WORKERS"] = "1"
    engine = open_archive(db_url, writer=True)
    with sessions(engine)() as session:
        row = store.ensure_source(session, source.name, source.raw)
        run = store.start_run(session, row)
        session.commit()
        job = writer.Job(db_url, source, row.id, run.id, {})
    engine.dispose()
    inbox: queue.Queue = queue.Queue()
    now = datetime.now(timezone.utc)
    for n in range(site.pages):
        url, body = f"{site.url}/a/{n}.html", article(n, site.pool)
        inbox.put(PageItem(source.name, [store.Fetched(url, url, url, 200, {}, "utf-8", body, now)], [body.decode()]))
    inbox.put(writer.END)
    return job, inbox


def run_writer(job: object, inbox: object) -> None:
    """The writer's work in this process, its reports drained by a thread."""
    import multiprocessing
    import threading

    from crawler import writer

    reports, sender = multiprocessing.Pipe(duplex=False)

    def drain() -> None:  # the writer's reports are not looked at here; read, the pipe never fills
        while reports.recv() != ("done",):
            pass

    draining = threading.Thread(target=drain, daemon=True)
    draining.start()
    writer.Writer(job, inbox, writer.Report(sender)).run()
    writer.Report(sender).done()
    draining.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--kinds", default="bare,bare+trafilatura,crawl sqlite,crawl postgresql,reclean 1,reclean 2")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--db", help="Archive URL to profile into (default: a fresh SQLite file).")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--start", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return bare(args.start, args.concurrency, extract=args.child == "bare+trafilatura")
    if args.profile:
        return profile(args.pages, args.concurrency, args.db)
    kinds = args.kinds.split(",")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.pages} article pages, concurrency {args.concurrency}, delay 0, no latency")
    print(f"{'run':<18} {'seconds':>8} {'pages/s':>8} {'CPU ms/page':>12} {'peak RSS MB':>12} {'speeches':>9}")
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp, BenchSite(args.pages) as site:
        source = source_file(site, Path(tmp), args.concurrency)
        for _ in range(args.rounds):
            for kind in kinds:
                seconds, cpu, rss, speeches = run_kind(kind, site, source, Path(tmp), args.concurrency)
                rate, cpu_ms = args.pages / seconds, 1000 * cpu / args.pages
                print(f"{kind:<18} {seconds:>8.1f} {rate:>8.1f} {cpu_ms:>12.1f} {rss:>12.0f} {speeches:>9}")
                old = best.get(kind)
                best[kind] = (max(rate, old[0]), min(cpu_ms, old[1])) if old else (rate, cpu_ms)
    if "bare" in best and "crawl sqlite" in best:
        print(f"# crawl/bare pages/s: {best['crawl sqlite'][0] / best['bare'][0]:.2f}x (goal >= 0.5x)")
    if "bare+trafilatura" in best and "crawl sqlite" in best:
        print(f"# crawl CPU / (bare + trafilatura): {best['crawl sqlite'][1] / best['bare+trafilatura'][1]:.2f}x "
              "(goal <= 2x)")
    if "reclean 1" in best and "reclean 2" in best:
        print(f"# reclean on 2 processes / on 1: {best['reclean 2'][0] / best['reclean 1'][0]:.2f}x faster (goal >= 1.8x)")
    if "crawl postgresql" in best and "crawl sqlite" in best:
        print(f"# PostgreSQL/SQLite seconds: {best['crawl sqlite'][0] / best['crawl postgresql'][0]:.2f}x "
              "(goal <= 1.3x)")


if __name__ == "__main__":
    main()
