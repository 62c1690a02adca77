"""One crawl shared by several processes through Redis, on scrapy-redis.

With the setting ``frontier = "redis"`` a crawl's request queue and seen-URL filter live in Redis
under the keys of one *run*: every process crawling with that run key takes its requests from the
same queue and drops what any of them has already seen, so N processes on any machines share one
crawl of a source. scrapy-redis supplies the queue and the scheduler; this module adds what a
crawl of an archive needs on top:

* a run per crawl (the queue and filter of the last crawl must not hide the list pages of the
  next), announced on a board that ``speech-archive worker`` processes watch and join;
* a seen-URL filter of fixed size (a Bloom filter in one Redis bitmap): a set of fingerprints
  would grow by ~100 bytes per URL, this stays at the size its capacity asks for;
* an end that waits for the others: a process with nothing to do stays while another still
  downloads (it may yet queue more), and the last one out clears the run's keys and judges the
  crawl's health as one crawl (each process did only a part of it).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.http import Request
from scrapy.spiders import Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from sqlalchemy import select

import settings as app_settings
from archive import health
from archive.storage import store
from archive.storage.db import open_archive, sessions
from archive.storage.models import CrawlRun, Source
from crawler.pipelines import RUN_OVER

log = logging.getLogger(__name__)

PREFIX = "speech-archive"
BOARD = f"{PREFIX}:runs"  # hash: run key -> source (name or path) of every crawl in progress
JUDGED_SECONDS = 7 * 24 * 3600  # long enough for any straggling process to close its part
BUSY_SECONDS = 30  # a process that downloaded nothing for this long no longer holds the others back


@dataclass(frozen=True)
class RunKeys:
    """The Redis keys of one shared crawl."""

    run: str

    @property
    def queue(self) -> str:
        return f"{PREFIX}:{self.run}:requests"

    @property
    def seen(self) -> str:
        return f"{PREFIX}:{self.run}:seen"

    @property
    def judged(self) -> str:
        """Outlives the run's other keys (see ``JUDGED_SECONDS``), named apart so that no pattern of them matches it."""
        return f"{PREFIX}-judged:{self.run}"

    def busy(self, worker: str = "*") -> str:
        return f"{PREFIX}:{self.run}:busy:{worker}"


def shown(redis_url: str) -> str:
    """The Redis URL as logs and messages may show it: without its password."""
    return re.sub(r"//[^/@]*@", "//***@", redis_url)


def connect(redis_url: str) -> Redis:
    """A client that fails fast, with a message naming the setting, when Redis cannot be reached."""
    client = Redis.from_url(redis_url, socket_connect_timeout=5)
    try:
        client.ping()
    except Exception as exc:  # redis raises several unrelated connection error types
        raise ConnectionError(f"cannot reach Redis at {shown(redis_url)} (setting redis_url): {exc}") from exc
    return client


def shareable(source: str) -> str:
    """How to name a source on the board so that a worker on another machine finds the same file:
    by name when it lives in ``sources_dir`` (each machine has its own copy there), else by
    absolute path (then every machine must mount it at that path)."""
    path = Path(source)
    if not path.suffix:
        return source  # already a name
    path = path.resolve()
    return path.stem if path.parent == Path(str(app_settings.get("sources_dir"))).resolve() else str(path)


def announce(client: Redis, source: str) -> str | None:
    """Open a new run of ``source`` (a name or absolute path, see ``shareable``) on the board for
    workers to join; None if one is still in progress."""
    if source in active_runs(client).values():
        return None
    run = f"{os.path.basename(source).removesuffix('.toml')}-{uuid.uuid4().hex[:12]}"
    client.hset(BOARD, run, source)
    return run


def active_runs(client: Redis) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in client.hgetall(BOARD).items()}


def finish(client: Redis, run: str) -> bool:
    """Take the run off the board and drop its queue and filter; True for the one caller that took it off."""
    keys = RunKeys(run)
    taken = client.hdel(BOARD, run) == 1
    client.delete(keys.queue, keys.seen)
    return taken


def scrapy_settings(run: str, redis_url: str, capacity: int, error: float) -> dict:
    """Scrapy settings that put this crawl's frontier into the run's Redis keys."""
    keys = RunKeys(run)
    return {
        "SCHEDULER": "scrapy_redis.scheduler.Scheduler",
        "DUPEFILTER_CLASS": "crawler.frontier.BloomDupeFilter",
        "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",  # a sorted set: idle() counts it with ZCARD
        "SCHEDULER_PERSIST": True,  # one process closing must not flush the queue the others still use
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "SCHEDULER_DUPEFILTER_KEY": keys.seen,
        "REDIS_URL": redis_url,
        "FRONTIER_RUN": run,
        "FRONTIER_CAPACITY": capacity,
        "FRONTIER_ERROR": error,
        "EXTENSIONS": {**app_settings.EXTENSIONS, "crawler.frontier.SharedCrawl": 520},
        "SPIDER_MIDDLEWARES": {"crawler.frontier.JoinGate": 10},
    }


def bloom_size(capacity: int, error: float) -> tuple[int, int]:
    """Bits and hash count of a Bloom filter holding ``capacity`` items at false-positive rate ``error``."""
    bits = math.ceil(-capacity * math.log(error) / math.log(2) ** 2)
    return bits, max(1, round(bits / capacity * math.log(2)))


# Sets every bit of one fingerprint and answers whether all were set before: atomic, so two
# processes offering the same URL at once cannot both be told it is new. Once the run is off the
# board every URL counts as seen: a process that joins as the run ends must not start it afresh.
_SEEN = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 1 end
local seen = 1
for i = 2, #ARGV do
  if redis.call('SETBIT', KEYS[1], ARGV[i], 1) == 0 then seen = 0 end
end
return seen
"""


class BloomDupeFilter(RFPDupeFilter):
    """scrapy-redis's seen-URL filter with a Bloom filter in place of a growing set.

    A false positive drops a URL from this run only (the next run has a fresh filter); at the
    default capacity and error it is one URL in a million while the run stays under capacity."""

    def __init__(self, server: Redis, run: str, capacity: int, error: float, debug: bool = False) -> None:
        super().__init__(server, RunKeys(run).seen, debug)
        self.run = run
        self.bits, self.hashes = bloom_size(capacity, error)
        self.seen_script = server.register_script(_SEEN)

    @classmethod
    def from_spider(cls, spider: Spider) -> BloomDupeFilter:
        s = spider.settings
        return cls(Redis.from_url(s.get("REDIS_URL")), s.get("FRONTIER_RUN"),
                   s.getint("FRONTIER_CAPACITY"), s.getfloat("FRONTIER_ERROR"), s.getbool("DUPEFILTER_DEBUG"))

    def positions(self, fingerprint: str) -> list[int]:
        """k bit positions by double hashing the two halves of a 160-bit fingerprint."""
        digest = hashlib.sha1(fingerprint.encode()).digest()
        h1, h2 = int.from_bytes(digest[:8], "big"), int.from_bytes(digest[8:16], "big") | 1
        return [(h1 + i * h2) % self.bits for i in range(self.hashes)]

    def request_seen(self, request: Request) -> bool:
        return self.seen_script(keys=[self.key, BOARD],
                                args=[self.run, *self.positions(self.request_fingerprint(request))]) == 1

    def close(self, reason: str = "") -> None:
        """Keep the filter: the other processes of the run still use it (``finish`` drops it)."""


class JoinGate:
    """Spider middleware: a process whose run ended while it started up crawls nothing (it closes
    with ``RUN_OVER``, and its run record is dropped); otherwise it would seed a crawl of its own."""

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.get("FRONTIER_RUN"):
            raise NotConfigured
        self.run = crawler.settings.get("FRONTIER_RUN")
        self.client = Redis.from_url(crawler.settings.get("REDIS_URL"))
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JoinGate:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator) -> AsyncIterator:
        if not self.client.hexists(BOARD, self.run):
            self.stats.set_value("finish_reason", RUN_OVER)  # for the pipeline, which closes before Scrapy sets it
            raise CloseSpider(RUN_OVER)
        async for item_or_request in start:
            yield item_or_request


class SharedCrawl:
    """Keeps a process in a shared crawl while others may still add work; the last one out ends the run."""

    def __init__(self, crawler: Crawler) -> None:
        s = crawler.settings
        if not s.get("FRONTIER_RUN"):
            raise NotConfigured
        self.keys = RunKeys(s.get("FRONTIER_RUN"))
        self.worker = f"{socket.gethostname()}-{os.getpid()}"
        self.client = Redis.from_url(s.get("REDIS_URL"))
        self.db_url = s.get("ARCHIVE_DB")
        self.marked = 0.0
        crawler.signals.connect(self.mark_busy, signals.request_reached_downloader)
        crawler.signals.connect(self.mark_busy, signals.response_received)
        crawler.signals.connect(self.idle, signals.spider_idle)
        crawler.signals.connect(self.closed, signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedCrawl:
        return cls(crawler)

    def mark_busy(self, *_args: object, **_kwargs: object) -> None:
        now = time.monotonic()
        if now - self.marked > 1:  # one round trip a second at most, whatever the request rate
            self.client.set(self.keys.busy(self.worker), 1, ex=BUSY_SECONDS)
            self.marked = now

    def others_busy(self) -> bool:
        return any(True for _ in self.client.scan_iter(self.keys.busy(), count=100))

    def idle(self, spider: Spider) -> None:
        self.client.delete(self.keys.busy(self.worker))
        self.marked = 0.0
        if self.client.zcard(self.keys.queue) or self.others_busy():
            spider.logger.debug("shared crawl %s: waiting for the other processes", self.keys.run)
            raise DontCloseSpider

    def closed(self, spider: Spider, reason: str) -> None:
        """The last process out ends the run, unless it was stopped (SIGTERM): then the run waits to resume.
        Once the run has ended, every process closing a part of it offers to judge it."""
        self.client.delete(self.keys.busy(self.worker))
        if reason == "shutdown":
            return
        if not self.others_busy() and finish(self.client, self.keys.run):
            spider.logger.info("shared crawl %s finished", self.keys.run)
        if not self.client.hexists(BOARD, self.keys.run):
            judge_crawl(self.client, self.db_url, spider.source.name, self.keys.run)


def judge_crawl(client: Redis, db_url: str, source: str, run: str) -> list[str]:
    """Judge an ended shared crawl as one crawl: its processes' runs together against the source's
    history (each process did only a part, so no one of them can be judged alone).

    Each process closes its own part before it calls this, so the last part to close sees every part
    closed and judges; a Redis claim makes sure it is judged once. A part whose process died on this
    host is closed here; one that died on another host stays open until that host's next crawl of
    the source, and the crawl is judged then by nobody (its figures stay in the history)."""
    engine = open_archive(db_url, writer=True)
    try:
        with sessions(engine).begin() as session:
            src = session.scalar(select(Source).where(Source.name == source))
            store.close_dead_runs(session, src)
            recent = session.scalars(select(CrawlRun).where(CrawlRun.source_id == src.id)
                                     .order_by(CrawlRun.id.desc()).limit(500))
            runs = [r for r in recent if (r.stats or {}).get("shared_run") == run]
            if any(r.status == "running" for r in runs) or not client.set(RunKeys(run).judged, 1, nx=True,
                                                                          ex=JUDGED_SECONDS):
                return []  # a part still open judges when it closes; or another process judged
            done = [r for r in runs if r.status == "finished"]
            reasons = health.judge(session, done) if done else []
        if reasons:
            health.alert_degraded(source, done, reasons)
        return reasons
    finally:
        engine.dispose()
