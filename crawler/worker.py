"""``speech-archive worker``: a crawl process for frontier=redis that joins the runs on the board.

Each joined run is crawled in its own subprocess (Scrapy's reactor cannot restart), one at a
time; the worker keeps no state of its own beyond the runs it has joined, so workers can be
added or removed at any moment. SIGTERM asks the running crawl to close cleanly, then exits.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

from redis.exceptions import RedisError

from crawler import frontier
from crawler.lifeline import child_env

log = logging.getLogger(__name__)


def work(db_url: str, redis_url: str, once: bool = False, poll: float = 5.0) -> None:
    """Join every run announced on the board (``once``: those there now), until SIGTERM."""
    client = frontier.connect(redis_url)
    joined: set[str] = set()
    current: list[subprocess.Popen] = []
    stopping: list[bool] = []

    def stop(*_args: object) -> None:
        stopping.append(True)
        for proc in current:
            proc.send_signal(signal.SIGTERM)  # the crawl archives what it holds; the run stays open

    signal.signal(signal.SIGTERM, stop)
    log.info("watching the board of shared crawls at %s", frontier.shown(redis_url))
    while not stopping:
        try:
            board = frontier.active_runs(client)
        except RedisError as exc:  # a restarting Redis must not end the worker: the board comes back
            log.warning("cannot read the board of shared crawls (%s); retrying in %s s", exc, poll)
            board = {}
        else:
            joined &= set(board)  # runs that ended need no memory
        for run, source in board.items():
            if run in joined or stopping:
                continue
            joined.add(run)
            log.info("joining shared crawl %s of %s", run, source)
            proc = subprocess.Popen([sys.executable, "-m", "cli", "--db", db_url, "crawl", source, "--run", run],
                                    cwd=Path(__file__).resolve().parent.parent, env=child_env())  # dies with us
            current.append(proc)
            status = proc.wait()
            current.remove(proc)
            (log.info if status == 0 else log.error)("shared crawl %s ended with status %s", run, status)
        if once:
            return
        time.sleep(poll)
