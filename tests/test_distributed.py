"""Several crawler processes sharing one crawl through Redis (scrapy-redis) into one PostgreSQL archive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from scrapy import Request
from sqlalchemy import select

from archive.storage import store
from archive.storage.db import open_archive, sessions
from archive.storage.models import CrawlRun, DupGroup, Speech
from crawler import frontier
from tests.changing_site import ChangingSite
from tests.conftest import crawl_runs, free_port, pg_schema

ROOT = Path(__file__).resolve().parent.parent
# a database of its own per pytest-xdist worker (15, 14, ...), emptied around each test: tests on
# other workers must not empty it under a shared crawl in progress
REDIS_URL = f"redis://127.0.0.1:6379/{15 - int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0').removeprefix('gw'))}"


@pytest.fixture
def redis() -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means no server here
        if os.environ.get("SPEECH_ARCHIVE_REQUIRE_REDIS"):
            pytest.fail(f"Redis is required here but unreachable at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis server at {REDIS_URL}: {exc}")
    client.flushdb()
    yield client
    client.flushdb()


def shared_env() -> dict[str, str]:
    return {**os.environ, "SPEECH_ARCHIVE_FRONTIER": "redis", "SPEECH_ARCHIVE_REDIS_URL": REDIS_URL,
            "PYTHONWARNINGS": "ignore"}


def wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def shared_crawl(cli: list[str], db_url: str, source: Path, redis: Redis) -> None:
    """Open a shared crawl of ``source`` in this process's stead and wait until every process has left it."""
    opener = subprocess.run([*cli, "--db", db_url, "crawl", str(source)], env=shared_env(), cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert opener.returncode == 0, opener.stderr
    assert "shared crawl changing-" in opener.stderr
    wait_for(lambda: not frontier.active_runs(redis), 120, "the shared crawl to end")
    wait_for(lambda: all(r.finished_at for r in crawl_runs(db_url)), 60, "every process to close its run")


@pytest.mark.postgres
def test_workers_share_one_crawl_each_page_fetched_once_each_speech_archived_once(
        redis: Redis, tmp_path: Path, cli, webhook: list[dict]) -> None:  # noqa: ANN001
    articles = 30
    with pg_schema() as db_url, ChangingSite(articles=articles, delay=0.3) as site:
        open_archive(db_url).dispose()  # the schema migrated once, before the processes race for it
        source = site.source_file(tmp_path)
        workers = [subprocess.Popen([*cli, "--db", db_url, "worker", "--poll", "0.2"], env=shared_env(), cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            shared_crawl(cli, db_url, source, redis)
            first = crawl_runs(db_url)
            fetched = Counter(path for path, _ in site.requests if path != "/robots.txt")
            # then the site is redesigned: new articles render their text with JavaScript
            for n in range(articles, articles + 5):
                site.add_article(n, layout="app")
            shared_crawl(cli, db_url, source, redis)
            wait_for(lambda: webhook, 60, "the second crawl to be judged")  # by whichever part closed last
            second = crawl_runs(db_url)[len(first):]
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            codes = [w.wait(timeout=60) for w in workers]
        assert codes == [0, 0], [w.stderr.read() for w in workers]

        assert set(fetched) == {"/index.html", *(f"/a/{n}.html" for n in range(articles))}
        assert set(fetched.values()) == {1}, fetched.most_common(3)

        engine = open_archive(db_url)
        with sessions(engine)() as session:
            speeches = list(session.scalars(select(Speech)))
            groups = {g.id: g for g in session.scalars(select(DupGroup))}
        engine.dispose()
        # one capture per article; a compilation page gives several speeches, each archived once
        assert len({s.url for s in speeches}) == articles
        assert {len({s.capture_id for s in speeches if s.url == url}) for url in {s.url for s in speeches}} == {1}
        assert set(Counter((s.url, s.index_in_page) for s in speeches).values()) == {1}
        # the site repeats its 15 texts: copies of one text form one group, whoever archived them
        by_text = {}
        for s in speeches:
            by_text.setdefault(s.text, set()).add(s.group_id)
        assert all(len(ids) == 1 for ids in by_text.values()) and len(groups) == len(by_text)
        assert all(groups[s.group_id].size == Counter(x.group_id for x in speeches)[s.group_id] for s in speeches)
        shares = [r.pages for r in first]
        assert sum(1 for n in shares if n > 0) >= 2, shares  # the work was shared, not done by one process
        assert not [k for k in redis.scan_iter("speech-archive:changing-*")]  # the last one out cleared the run

        # the three processes' parts of the second crawl are judged as one crawl, and alerted once
        assert len(first) == 3 and {r.status for r in first} == {"finished"}
        assert second and {r.status for r in second} == {"degraded"}, [(r.status, r.stats) for r in second]
        [alert] = webhook
        assert sorted(alert["run_ids"]) == [r.id for r in second]
        assert any("5 new pages gave no speech" in reason for reason in alert["reasons"]), alert["reasons"]


def test_a_shared_crawl_is_judged_once_by_the_last_part_to_close(redis: Redis, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    engine = open_archive(db_url, writer=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with sessions(engine).begin() as session:
        source = store.ensure_source(session, "gov", {})
        parts = [store.start_run(session, source, "gov-1") for _ in range(3)]
        parts[2].stats = {**parts[2].stats, "pid": dead.pid}  # its process was killed: it never closes its part
        ids = [p.id for p in parts]

    def close(run_id: int) -> None:
        with sessions(engine).begin() as session:
            store.finish_run(session, session.get(CrawlRun, run_id), "finished", {"shared_run": "gov-1"})

    close(ids[0])
    assert frontier.judge_crawl(redis, db_url, "gov", "gov-1") == []  # another part is still open
    close(ids[1])
    [reason] = frontier.judge_crawl(redis, db_url, "gov", "gov-1")  # the last one judges the parts together
    assert reason.startswith("no speech archived")
    assert frontier.judge_crawl(redis, db_url, "gov", "gov-1") == []  # once: a late closer finds it judged
    with sessions(engine)() as session:
        assert [session.get(CrawlRun, i).status for i in ids] == ["degraded", "degraded", "interrupted"]
    engine.dispose()


def test_the_seen_url_filter_has_a_fixed_size_and_no_false_positive_at_its_capacity(redis: Redis) -> None:
    run = frontier.announce(redis, "t")
    seen = frontier.BloomDupeFilter(redis, run, capacity=20_000, error=1e-6)
    urls = [f"http://a.cn/{n}.html" for n in range(20_000)]
    assert not any(seen.request_seen(Request(u)) for u in urls)
    assert all(seen.request_seen(Request(u)) for u in urls[:500])  # every URL offered again is known
    assert redis.strlen(frontier.RunKeys(run).seen) <= seen.bits // 8 + 1  # the bitmap its capacity asked for
    assert seen.bits / 20_000 / 8 < 4  # 3.6 bytes per URL; a set of fingerprints takes ~100
    frontier.finish(redis, run)  # a run that ended takes no new URL: a late joiner cannot start it afresh
    assert seen.request_seen(Request("http://a.cn/new.html")) and not redis.exists(frontier.RunKeys(run).seen)


def test_the_scheduler_announces_runs_for_workers_instead_of_crawling(redis: Redis, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import scheduler

    monkeypatch.setenv("SPEECH_ARCHIVE_FRONTIER", "redis")
    monkeypatch.setenv("SPEECH_ARCHIVE_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("SPEECH_ARCHIVE_SOURCES_DIR", str(tmp_path / "sources"))
    # a file in sources_dir goes on the board by name: each worker machine reads its own sources/
    assert scheduler.crawl_job(str(tmp_path / "sources" / "gov.toml"), "sqlite:///unused.sqlite3") == 0
    (run, source), = frontier.active_runs(redis).items()
    assert source == "gov" and run.startswith("gov-")
    scheduler.crawl_job(str(tmp_path / "sources" / "gov.toml"), "sqlite:///unused.sqlite3")  # still in progress
    assert list(frontier.active_runs(redis)) == [run]
    assert frontier.finish(redis, run) and not frontier.finish(redis, run)  # ended once, by one caller
    assert frontier.active_runs(redis) == {}
    scheduler.crawl_job("elsewhere/extra.toml", "sqlite:///unused.sqlite3")  # anywhere else: by absolute path
    assert list(frontier.active_runs(redis).values()) == [str(Path("elsewhere/extra.toml").resolve())]


def test_a_worker_outlives_a_redis_restart(tmp_path: Path, cli) -> None:  # noqa: ANN001
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen:
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no"], stdout=subprocess.DEVNULL)
        wait_for(lambda: _answers(url), 10, "redis-server to start")
        return proc

    server = start_redis()
    log = (tmp_path / "worker.log").open("w+")
    worker = subprocess.Popen([*cli, "--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", "worker", "--poll", "0.2"],
                              env={**shared_env(), "SPEECH_ARCHIVE_REDIS_URL": url}, cwd=ROOT, stderr=log)
    try:
        wait_for(lambda: "watching the board" in Path(log.name).read_text(), 60, "the worker to start")
        server.terminate()
        server.wait()
        wait_for(lambda: "cannot read the board" in Path(log.name).read_text(), 20, "the worker to notice")
        assert worker.poll() is None, Path(log.name).read_text()
        server = start_redis()
        source = tmp_path / "dead.toml"
        source.write_text('name = "dead"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
        frontier.announce(Redis.from_url(url), str(source))
        wait_for(lambda: "joining shared crawl dead-" in Path(log.name).read_text(), 20, "the worker to join")
    finally:
        worker.terminate()
        assert worker.wait(timeout=60) == 0
        server.terminate()
        server.wait()


def _answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001 - not up yet
        return False


def test_a_process_joining_a_run_that_ended_crawls_nothing_and_leaves_no_run(
        redis: Redis, tmp_path: Path, demo_site) -> None:  # noqa: ANN001
    """The worker saw the run on the board, but the last process finished it while this one started."""
    db_url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    run = frontier.announce(redis, "demo")
    frontier.finish(redis, run)
    script = ("import sys; from crawler.run import run_crawl; from crawler.sources import load_source;"
              "stats = run_crawl(load_source(sys.argv[1]).with_base_url(sys.argv[2]), sys.argv[3], run=sys.argv[4]);"
              "print(stats.get('finish_reason'), stats.get('downloader/request_count', 0))")
    result = subprocess.run([sys.executable, "-c", script, str(ROOT / "demo" / "source.toml"), demo_site.url, db_url,
                             run], env=shared_env(), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{frontier.RUN_OVER} 0"
    assert crawl_runs(db_url) == [] and not list(redis.scan_iter(f"speech-archive:{run}:*"))


def test_a_mirror_address_cannot_be_shared(tmp_path: Path, cli, redis: Redis) -> None:  # noqa: ANN001
    source = tmp_path / "s.toml"
    source.write_text('name = "s"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
    result = subprocess.run([*cli, "--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", "crawl", str(source),
                             "--base-url", "http://127.0.0.1:9/"], env=shared_env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2 and "--base-url cannot be shared" in result.stderr
    assert frontier.active_runs(redis) == {}


def test_unreachable_redis_is_one_clear_error(tmp_path: Path, cli) -> None:  # noqa: ANN001
    source = tmp_path / "s.toml"
    source.write_text('name = "s"\nstart_urls = ["http://127.0.0.1:9/"]\n', encoding="utf-8")
    env = {**shared_env(), "SPEECH_ARCHIVE_REDIS_URL": "redis://127.0.0.1:9/0"}
    result = subprocess.run([*cli, "--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", "crawl", str(source)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "cannot reach Redis at redis://127.0.0.1:9/0" in result.stderr
    assert "Traceback" not in result.stderr
    env["SPEECH_ARCHIVE_REDIS_URL"] = "redis://:hunter2@127.0.0.1:9/0"
    result = subprocess.run([*cli, "--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", "crawl", str(source)], env=env,
                            capture_output=True, text=True, timeout=60)
    assert "cannot reach Redis at redis://***@127.0.0.1:9/0" in result.stderr and "hunter2" not in result.stderr
