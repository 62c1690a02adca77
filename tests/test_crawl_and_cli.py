"""The whole path as a user runs it: the console script crawls the sample site on a real local
HTTP server into SQLite and PostgreSQL, then searches and exports what it archived."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from archive.export.record import CLEANED, SUMMARY
from archive.storage.models import Capture, CrawlRun, DupGroup, Speech
from cli import main
from tests.conftest import pg_schema, run_cli

ARTICLES = {"/xuexila/zhucun.html", "/wenmi/ruanruo.html", "/doc/liu-2007.html", "/gov/liu-2007.html",
            "/tw/dongyuan.html", "/cn/dongyuan.html", "/gaozi/huibian.html", "/fwxs/zhucun-2.html"}
# Every piece of noise the sample pages carry; none may survive into an archived text.
NOISE = ["gzu521", "学;习", "fanwenxs", "范文先", "gaozihui", "稿子汇", "文库", "wm114", "新文秘网", "省略1032字", "正式会员",
         "未完", "全文共", "当前仅显示", "还剩5页未读", "继续阅读", "您的位置", "当前位置", "所在位置", "首頁", "上一篇", "下一篇",
         "上一页", "下一页", "约4.43千字", "发布于黑龙江", "PAGE", "您可能关注的文档", "原创力文档", "文档评论", "字号:",
         "小编", "導語", "网友上传", "前言:", "本站", "推荐使用Chrome", "3f#K", "u8~2", "p;Q7", "x7Q", "署鸡", "轉載請註明",
         "公文汇", "lǐng", "网主义", "\u200b", "\u200c", "编辑:", "分享到", "版权所有", "ICP", "发布日期", "时间:", "時間:",
         "热门推荐", "相关文章", "《 组织工作 》", "目录/提纲", "驻村工作组长讲话3篇", "Copyright"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def crawled(request: pytest.FixtureRequest, demo_site, cli, tmp_path_factory) -> Iterator[str]:  # noqa: ANN001
    """Crawl the sample site once per backend through the console script; yield the archive URL."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('crawl') / 'archive.sqlite3'}"
        else:
            url = stack.enter_context(pg_schema())
        result = run_cli(cli, "--db", url, "crawl", "demo", "--base-url", demo_site.url)
        assert result.returncode == 0, result.stderr
        assert "crawl of demo: finished" in result.stdout
        yield url


@pytest.fixture
def db(crawled: str) -> Session:
    engine = create_engine(crawled)
    with Session(engine) as s:
        yield s
    engine.dispose()


def paths(db: Session) -> list[str]:
    return [re.sub(r"^https?://[^/]+", "", c.canonical_url) for c in db.scalars(select(Capture))]


def test_every_article_is_archived_and_nothing_else(db: Session) -> None:
    roots = [re.sub(r"^https?://[^/]+", "", c.canonical_url) for c in db.scalars(select(Capture).where(Capture.root_id.is_(None)))]
    assert sorted(roots) == sorted(ARTICLES)


def test_robots_txt_traps_and_mobile_twins_are_respected(db: Session) -> None:
    got = paths(db)
    assert not any(p.startswith(("/private/", "/calendar", "/m/")) for p in got)
    assert not any("utm_source" in p for p in got)


def test_article_split_over_two_pages_is_one_page_record(db: Session) -> None:
    root = db.scalar(select(Capture).where(Capture.canonical_url.like("%/gov/liu-2007.html")))
    part = db.scalar(select(Capture).where(Capture.root_id == root.id))
    assert part.canonical_url.endswith("/gov/liu-2007_2.html") and part.part_index == 1
    [speech] = db.scalars(select(Speech).where(Speech.capture_id == root.id)).all()
    assert speech.text.startswith("同志们:") and "鼓励群众种植黄瓜等反季节" in speech.text  # text from part 2
    assert (speech.speaker, speech.speech_date, speech.publish_date) == ("刘敏坚", "2007-01-16", "2007-01-18")


@pytest.mark.parametrize("path,encoding", [("/wenmi/ruanruo.html", "gb18030"), ("/gov/liu-2007.html", "gb18030"),
                                           ("/tw/dongyuan.html", "big5hkscs"), ("/cn/dongyuan.html", "utf-8")])
def test_encodings_detected_despite_missing_and_wrong_headers(db: Session, path: str, encoding: str) -> None:
    capture = db.scalar(select(Capture).where(Capture.canonical_url.like(f"%{path}")))
    assert capture.encoding == encoding


def test_no_noise_left_in_any_archived_text(db: Session) -> None:
    residue = [(s.id, n) for s in db.scalars(select(Speech)) for n in NOISE if n in s.text or n in s.title]
    assert residue == []


def test_speeches_flags_and_groups(db: Session) -> None:
    speeches = db.scalars(select(Speech)).all()
    by_url: dict[str, list[Speech]] = {}
    for s in speeches:
        by_url.setdefault(re.sub(r"^https?://[^/]+", "", s.url), []).append(s)
    assert len(by_url["/xuexila/zhucun.html"]) == 3 and len(by_url["/gaozi/huibian.html"]) >= 4
    wenmi = by_url["/wenmi/ruanruo.html"][0]
    assert wenmi.truncated and wenmi.stated_length == 6287 and [g["kind"] for g in wenmi.gaps] == ["omitted", "truncated"]
    assert by_url["/doc/liu-2007.html"][0].truncated and by_url["/tw/dongyuan.html"][0].mojibake

    def same_group(a: Speech, b: Speech) -> bool:
        return a.group_id == b.group_id

    gov, doc = by_url["/gov/liu-2007.html"][0], by_url["/doc/liu-2007.html"][0]
    tw, cn = by_url["/tw/dongyuan.html"][0], by_url["/cn/dongyuan.html"][0]
    second = [s for s in by_url["/xuexila/zhucun.html"] if s.title == "驻村工作组长讲话二"][0]
    assert same_group(gov, doc) and same_group(tw, cn) and same_group(second, by_url["/fwxs/zhucun-2.html"][0])
    assert db.get(DupGroup, gov.group_id).canonical_id == gov.id  # complete beats truncated
    assert db.get(DupGroup, cn.group_id).canonical_id == cn.id    # clean simplified beats mojibake traditional
    pieces = {s.group_id for s in by_url["/gaozi/huibian.html"]}
    assert len(pieces) == len(by_url["/gaozi/huibian.html"])      # similar reports stay apart
    assert len({s.group_id for s in speeches}) == len(speeches) - 3


def test_run_is_recorded(db: Session) -> None:
    [run] = db.scalars(select(CrawlRun)).all()
    assert run.status == "finished" and run.pages == 9 and run.speeches_new == len(db.scalars(select(Speech)).all())
    assert run.errors == 1  # the list links one dead page; the crawl goes on and says so


@pytest.mark.parametrize("query,expected_title", [
    ("驻村", "驻村工作组长讲话一"),                        # two characters
    ("戰鬥力", "农村基层组织建设动员会的讲话"),              # traditional query, simplified copy
    ("创建農村基層組織", "農村基層組織建設動員會的講話"),     # mixed-script query, traditional copy
    ('"克服急躁情绪"', "驻村工作组长讲话一"),                # phrase
])
def test_cli_search(crawled: str, cli, query: str, expected_title: str) -> None:  # noqa: ANN001
    result = run_cli(cli, "--db", crawled, "search", query, "--json", "--limit", "50")
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    assert expected_title in [h["title"] for h in hits]
    assert all(set(h) == {*SUMMARY, "occurrences", "snippet"} for h in hits)  # the speech record's names


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_cli_export(crawled: str, cli, tmp_path: Path, fmt: str) -> None:  # noqa: ANN001
    out = tmp_path / f"out.{fmt}"
    result = run_cli(cli, "--db", crawled, "export", "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    n = int(re.search(r"wrote (\d+) speeches", result.stdout).group(1))
    assert n >= 14
    if fmt == "parquet":
        assert pq.read_table(out).num_rows == n


def test_recrawl_stores_nothing_twice(crawled: str, cli, demo_site, db: Session) -> None:  # noqa: ANN001
    before = len(db.scalars(select(Speech)).all())
    result = run_cli(cli, "--db", crawled, "crawl", "demo", "--base-url", demo_site.url)
    assert result.returncode == 0, result.stderr
    db.expire_all()
    assert len(db.scalars(select(Speech)).all()) == before


def test_cli_runs_stats_group_and_reclean(crawled: str, cli, tmp_path: Path) -> None:  # noqa: ANN001
    runs = run_cli(cli, "--db", crawled, "runs")
    assert runs.returncode == 0 and "finished" in runs.stdout
    stats = json.loads(run_cli(cli, "--db", crawled, "stats", "--json").stdout)
    assert stats["speeches"] >= 14 and stats["groups_with_copies"] == 3
    group = run_cli(cli, "--db", crawled, "group", "1")
    assert group.returncode == 0 and "*" in group.stdout
    reclean = run_cli(cli, "--db", crawled, "reclean")
    assert reclean.returncode == 0 and "0 speeches changed" in reclean.stdout
    assert json.loads(run_cli(cli, "--db", crawled, "stats", "--json").stdout) == stats
    before = run_cli(cli, "--db", crawled, "search", "讲话", "--json").stdout
    reindex = run_cli(cli, "--db", crawled, "reindex")
    assert reindex.returncode == 0 and f"{stats['speeches']} speeches reindexed" in reindex.stdout
    assert run_cli(cli, "--db", crawled, "search", "讲话", "--json").stdout == before
    table = run_cli(cli, "--db", crawled, "trend", "驻村", "--per", "count", "--all-copies", "--csv", str(tmp_path / "t.csv"))
    assert table.returncode == 0 and table.stdout.splitlines()[0] == "year\tspeeches\t驻村", table.stderr
    assert sum(int(r.split(",")[-1]) for r in (tmp_path / "t.csv").read_text(encoding="utf-8-sig").splitlines()[1:]) == \
        sum(float(line.split("\t")[2]) for line in table.stdout.splitlines()[1:] if line.split("\t")[2] != "-")
    wrong = run_cli(cli, "--db", crawled, "trend", "驻村", "--per", "pages")
    assert wrong.returncode == 2 and "'--per'" in wrong.stderr


def test_clean_command_offline(cli) -> None:  # noqa: ANN001
    page = Path(__file__).resolve().parent.parent / "demo" / "site" / "wenmi" / "ruanruo.html"
    result = run_cli(cli, "clean", str(page), "--url", "http://x.cn/wenmi/ruanruo.html", "--json", "--explain")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["speeches"][0]["truncated"] and data["speeches"][0]["stated_length"] == 6287
    assert set(data["speeches"][0]) == {*CLEANED, "outline", "gaps"}  # the record it would be archived as
    reasons = {r["reason"] for r in data["removals"]}
    assert {"paywall.omitted", "paywall.truncated", "chrome.breadcrumb", "chrome.toc"} <= reasons


def test_the_installed_script_lists_every_command(cli) -> None:  # noqa: ANN001
    result = run_cli(cli, "--help")
    assert result.returncode == 0 and all(f"  {name} " in result.stdout for name in main.commands), result.stdout


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help(command: str) -> None:
    """In this process (the script itself is run above): a process per command cost a minute."""
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output and len(result.output) > 100, result.output


@pytest.mark.parametrize("args,message", [
    (["crawl", "nosuchsite"], "no source file"),
    (["--db", "nonsense://x", "stats"], "not a database URL"),
    (["--db", "not a url", "stats"], "not a database URL"),
    (["--db", "sqlite:////no/such/folder/a.sqlite3", "stats"], "does not exist"),
    (["--db", "postgresql+psycopg://nobody@127.0.0.1:1/x", "stats"], "cannot open archive"),
    (["search", '"unclosed'], "unbalanced quotes"),
    (["export", "--format", "jsonl", "--out", "/no/such/dir/x.jsonl"], "does not exist"),
    (["group", "999999"], "no duplicate group"),
])
def test_user_mistakes_get_one_clear_line(cli, tmp_path: Path, args: list[str], message: str) -> None:  # noqa: ANN001
    if args[0] != "--db":
        args = ["--db", f"sqlite:///{tmp_path / 'a.sqlite3'}", *args]
    result = run_cli(cli, *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_clean_rejects_an_empty_file(cli, tmp_path: Path) -> None:  # noqa: ANN001
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = run_cli(cli, "clean", str(empty))
    assert result.returncode == 2 and "empty page" in result.stderr


def test_demo_command(cli, tmp_path: Path) -> None:  # noqa: ANN001
    result = run_cli(cli, "demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"pages 9 · speeches 1\d · duplicate groups \d+ \(3 with several copies\)", result.stdout)
    assert "speech-archive --db sqlite:///demo-archive.sqlite3 search" in result.stdout
    assert sqlite3.connect(tmp_path / "demo-archive.sqlite3").execute("select count(*) from speeches").fetchone()[0] >= 14


def test_scrapy_crawl_command_runs_the_same_spider(demo_site, tmp_path: Path) -> None:  # noqa: ANN001
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    source = tmp_path / "site.toml"
    source.write_text((root / "demo" / "source.toml").read_text(encoding="utf-8").replace(
        'base_url = "http://127.0.0.1:8765"', f'base_url = "{demo_site.url}"'), encoding="utf-8")
    db = tmp_path / "scrapy.sqlite3"
    scrapy = Path(sys.executable).parent / "scrapy"
    result = subprocess.run([str(scrapy), "crawl", "speeches", "-a", f"source={source}", "-s", "LOG_LEVEL=WARNING"],
                            cwd=root, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "SPEECH_ARCHIVE_DB": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    assert sqlite3.connect(db).execute("select count(*) from speeches").fetchone()[0] >= 14
