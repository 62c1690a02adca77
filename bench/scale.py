"""Scale benchmark: pages/s of one shared crawl with 1, 2 and 4 crawler processes, and the size
of the shared seen-URL filter against a plain set of fingerprints.

    python bench/scale.py [--workers 1,2,4] [--pages 400] [--latency 0.05] [--filter-urls 1000000]

Every run crawls a fresh local site of PAGES article pages (each answered after LATENCY seconds,
as a remote server would) into a fresh PostgreSQL schema, with Redis as the frontier: one
``crawl`` opens the run, W-1 ``worker`` processes join it. CPU seconds are the children's own
(user + system), so pages per CPU-second say what more cores would give while neither the sites
nor the database are the limit.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from redis import Redis  # noqa: E402
from scrapy import Request  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

import settings  # noqa: E402
from archive.storage.db import open_archive, sessions  # noqa: E402
from archive.storage.models import Speech  # noqa: E402
from crawler import frontier  # noqa: E402
from tests.changing_site import ChangingSite  # noqa: E402

PG = os.environ.get("SPEECH_ARCHIVE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/14"


def source_file(site: ChangingSite, folder: Path) -> Path:
    path = folder / "scale.toml"
    path.write_text("\n".join([
        'name = "scale"', f'base_url = "{site.url}"', 'start_urls = ["/index.html"]',
        'list_patterns = ["/index\\\\.html$"]', 'article_patterns = ["/a/\\\\d+\\\\.html$"]', 'site = "规模网"',
        "[politeness]", "delay = 0", "concurrency = 8", "[selectors]", 'title = "h1"', 'body = "div.article"',
    ]) + "\n", encoding="utf-8")
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def crawl_with(workers: int, pages: int, latency: float, folder: Path) -> tuple[float, int, int, float]:
    """Seconds, pages fetched, speeches archived and children's CPU seconds of one shared crawl."""
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db_url = f"{PG}?options=-csearch_path%3D{schema}"
    open_archive(db_url).dispose()
    env = {**os.environ, "SPEECH_ARCHIVE_FRONTIER": "redis", "SPEECH_ARCHIVE_REDIS_URL": REDIS_URL,
           "PYTHONWARNINGS": "ignore"}
    cli = [sys.executable, "-m", "cli", "--db", db_url]
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    try:
        with ChangingSite(articles=pages, delay=latency) as site:
            source = source_file(site, folder)
            cpu0 = children_cpu()
            helpers = [subprocess.Popen([*cli, "worker", "--poll", "0.1"], env=env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for _ in range(workers - 1)]
            time.sleep(2 if helpers else 0)  # the workers are up and watching the board
            started = time.perf_counter()
            subprocess.run([*cli, "crawl", str(source)], env=env, cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while frontier.active_runs(redis):
                time.sleep(0.05)
            seconds = time.perf_counter() - started
            for h in helpers:
                h.terminate()
                h.wait()
            fetched = sum(1 for path, _ in site.requests if path.startswith("/a/"))
            cpu = children_cpu() - cpu0
        engine = open_archive(db_url)
        with sessions(engine)() as session:
            speeches = session.scalar(select(func.count()).select_from(Speech)) or 0
        engine.dispose()
        return seconds, fetched, speeches, cpu
    finally:
        redis.flushdb()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def filter_memory(urls: int) -> tuple[int, int, float]:
    """Bytes of the Bloom filter (default capacity) and of scrapy-redis's fingerprint set after ``urls`` URLs."""
    redis = Redis.from_url(REDIS_URL)
    redis.flushdb()
    bloom = frontier.BloomDupeFilter(redis, "bench:bloom", capacity=int(settings.get("frontier_capacity")),
                                     error=float(settings.get("frontier_error")))
    plain = frontier.RFPDupeFilter(redis, "bench:set")
    started = time.perf_counter()
    pipe = redis.pipeline(transaction=False)
    for n in range(urls):
        request = Request(f"http://site{n % 97}.cn/article/{n}.html")
        pipe.sadd("bench:set", plain.request_fingerprint(request))
        bloom.seen_script(keys=["bench:bloom"], args=bloom.positions(bloom.request_fingerprint(request)), client=pipe)
        if n % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    seconds = time.perf_counter() - started
    sizes = redis.memory_usage("bench:bloom"), redis.memory_usage("bench:set")
    redis.flushdb()
    return sizes[0], sizes[1], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--pages", type=int, default=400)
    parser.add_argument("--latency", type=float, default=0.05, help="Seconds the site takes per article page.")
    parser.add_argument("--filter-urls", default="100000,1000000")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"PostgreSQL archive, Redis frontier; {args.pages} article pages, {args.latency * 1000:.0f} ms each")
    print(f"{'processes':>9} {'seconds':>8} {'pages':>6} {'pages/s':>8} {'speeches':>9} {'CPU s':>7} "
          f"{'pages/CPU-s':>12}")
    per_cpu = []
    with tempfile.TemporaryDirectory() as folder:
        for w in (int(x) for x in args.workers.split(",")):
            seconds, fetched, speeches, cpu = crawl_with(w, args.pages, args.latency, Path(folder))
            per_cpu.append(fetched / cpu)
            print(f"{w:>9} {seconds:>8.1f} {fetched:>6} {fetched / seconds:>8.1f} {speeches:>9} {cpu:>7.1f} "
                  f"{fetched / cpu:>12.1f}")
    best, worst = max(per_cpu), min(per_cpu)
    print(f"# crawler CPU per page: {1000 / best:.0f} ms alone, {1000 / worst:.0f} ms when the processes contend "
          f"(process start included; PostgreSQL's own CPU not counted). Each core given to crawler processes adds "
          f"about {worst:.0f}-{best:.0f} pages/s while the sites and the database keep up: "
          f"{', '.join(f'{c} cores ~ {c * worst:.0f}-{c * best:.0f}' for c in (4, 8, 16))} pages/s")
    print(f"{'filter URLs':>11} {'Bloom MB':>9} {'set MB':>8} {'bytes/URL Bloom':>16} {'bytes/URL set':>14}")
    for n in (int(x) for x in args.filter_urls.split(",")):
        bloom, plain, _ = filter_memory(n)
        print(f"{n:>11} {bloom / 1e6:>9.1f} {plain / 1e6:>8.1f} {bloom / n:>16.1f} {plain / n:>14.1f}")


if __name__ == "__main__":
    main()
