"""Discovery: a source file with only a name and a start URL archives every speech of a site.

The rules are tested as kinds (address shapes, traps, page kinds, the learner's budgets), then as a
whole on the local family of sites (``tests/sites.py``): real crawls by the installed command,
measured from each server's own request log.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from crawler import discover
from crawler.sources import parse_source
from crawler.urls import canonical
from tests.conftest import crawl_runs, run_cli
from tests.sites import FAMILY, FanwenSite, Site, article, links, page, speech

TRAP_PAGES = re.compile(r"/news/calendar|/archive/|/more/more/|/search|/member/")
FORBIDDEN = ("/admin/", "/private/")


# --- the rules, as kinds ---------------------------------------------------------------------------
@pytest.mark.parametrize("one,other", [
    ("http://a.cn/jianghua/2024/0312/4114.html", "http://a.cn/jianghua/2019/1101/87.html"),
    ("http://a.cn/show.asp?id=3", "http://a.cn/show.asp?id=4077"),
    ("http://a.cn/doc/5f2a9c0e11ab3d7e.html", "http://a.cn/doc/0b7e44d1a9c2ee10.html"),
    ("http://a.cn/list.asp?page=2&cat=news", "http://a.cn/list.asp?cat=talk&page=30"),
])
def test_pages_of_one_kind_share_a_shape(one: str, other: str) -> None:
    one, other = canonical(one), canonical(other)  # the crawler shapes and matches canonical addresses
    assert discover.shape(one) == discover.shape(other)
    pattern = discover.shape_pattern(discover.shape(one))
    assert re.search(pattern, one) and re.search(pattern, other.replace("a.cn", "mirror.example:8080"))


def test_different_places_have_different_shapes() -> None:
    shapes = {discover.shape(u) for u in ("http://a.cn/jianghua/1.html", "http://a.cn/zongjie/1.html",
                                          "http://a.cn/jianghua/list_2.html", "http://a.cn/show.asp?id=1",
                                          "http://a.cn/show.asp?page=1")}
    assert len(shapes) == 5
    assert discover.family(discover.shape("http://a.cn/tag/lingdao.html")) == discover.family(discover.shape("http://a.cn/tag/anquan.html"))


@pytest.mark.parametrize("url,kind", [
    ("http://a.cn/upload/2024/report.pdf", "file"), ("http://a.cn/img/banner.JPG", "file"),
    ("http://a.cn/search?q=讲话", "search"), ("http://a.cn/plus/search.php?keyword=x", "search"),
    ("http://a.cn/so/?wd=x", "search"), ("http://a.cn/member/login.php", "visitor"),
    ("http://a.cn/user/reg.html", "visitor"), ("http://a.cn/e/member/register/", "visitor"),
    ("http://a.cn/calendar?d=2026-11-02", "calendar"), ("http://a.cn/news/?date=20261102", "calendar"),
    ("http://a.cn/more/more/more/", "repeats"), ("http://a.cn/a/b/c/a/b/c", "repeats"),
])
def test_traps_by_kind(url: str, kind: str) -> None:
    assert discover.trap(url) == kind


@pytest.mark.parametrize("url", [
    "http://a.cn/jianghua/2024/0312/4114.html", "http://a.cn/show.asp?id=3", "http://a.cn/news/content_52003.htm",
    "http://a.cn/2024/11/02/speech-on-rural-work.html", "http://a.cn/fanwen/jianghua/", "http://a.cn/list.asp?page=2",
    "http://a.cn/a/b/a/c.html", "http://a.cn/users-guide-to-speeches/1.html",
])
def test_pages_that_are_not_traps(url: str) -> None:
    assert discover.trap(url) is None


@given(st.lists(st.text("abcdefgh", min_size=1, max_size=6), min_size=1, max_size=3), st.integers(2, 4))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_any_path_said_over_and_over_is_a_trap(segments: list[str], times: int) -> None:
    """Relative links that nest a page inside itself, whatever the segment names."""
    assert discover.trap("http://a.cn/" + "/".join(segments * max(times, 3 if len(segments) == 1 else 2)) + "/") == "repeats"


def _root(body: str) -> lxml_html.HtmlElement:
    return lxml_html.fromstring(page("t", body))


PROSE = "今天召开这次会议，主要任务是总结去年工作，部署今年任务。各单位要高度重视，认真抓好落实，确保各项工作取得实效。" * 4


def test_page_kinds() -> None:
    article = _root("<div class='nav'>" + "".join(f"<a href='/{i}.html'>栏目{i}</a>" for i in range(8)) + "</div>"
                    + "<div class='content'>" + "".join(f"<p>{PROSE}</p>" for _ in range(3)) + "</div>")
    listing = _root("<ul>" + "".join(f"<li><a href='/a/{i}.html'>在全县第{i}次工作会议上的讲话</a></li>" for i in range(10)) + "</ul>")
    summaries = _root("<ul>" + "".join(f"<li><a href='/a/{i}.html'>在全县第{i}次工作会议上的讲话</a><p>{PROSE[:40]}</p></li>"
                                       for i in range(10)) + "</ul>")
    empty = _root("<p>2026-11-02</p><a href='/calendar?d=2026-11-03'>后一天</a>")
    script_app = _root("<div id='app'></div><script src='/bundle.js'></script>")
    assert discover.classify(article) == discover.ARTICLE
    assert discover.classify(listing) == discover.LIST
    assert discover.classify(summaries) == discover.LIST  # abstracts under links are not one speech
    assert discover.classify(empty) == discover.OTHER and discover.classify(script_app) == discover.OTHER


@pytest.mark.parametrize("url,anchor,expected", [
    ("http://a.cn/jianghua/list_2.html", "2", True), ("http://a.cn/x/index_3.html", "", True),
    ("http://a.cn/list.asp?page=4", "", True), ("http://a.cn/x/abc.html", "下一页", True),
    ("http://a.cn/x/abc.html", "尾页", True), ("http://a.cn/a/4114.html", "在全县工作会议上的讲话", False),
])
def test_pagination_by_words_or_address(url: str, anchor: str, expected: bool) -> None:
    assert discover.is_pagination(url, anchor) is expected


def test_a_shape_that_gives_nothing_is_tried_a_few_times_then_dropped() -> None:
    shapes = discover.Shapes()
    urls = [f"http://a.cn/about/{i}.html" for i in range(10)]
    verdicts = [shapes.admit(u) for u in urls]
    assert verdicts == ["fetch"] * discover.BUDGET + ["wait"] * (10 - discover.BUDGET)
    for u in urls[:discover.BUDGET]:
        assert shapes.learn(u, discover.OTHER) == []  # nothing released while it proves barren
    assert shapes.admit("http://a.cn/about/99.html") == "skip"


def test_a_shape_that_gives_articles_lets_its_waiting_pages_through() -> None:
    shapes = discover.Shapes()
    urls = [f"http://a.cn/a/{i}.html" for i in range(10)]
    assert [shapes.admit(u) for u in urls].count("fetch") == discover.BUDGET
    released = shapes.learn(urls[0], discover.ARTICLE)
    assert released == urls[discover.BUDGET:]
    assert shapes.admit("http://a.cn/a/77.html") == "fetch"
    assert discover.shape("http://a.cn/a/1.html") in dict(shapes.learned(discover.ARTICLE))


def test_a_list_that_stops_leading_anywhere_is_dropped() -> None:
    """An archive by date: its first page is a real list, then the same links day after day."""
    shapes = discover.Shapes()
    days = [f"http://a.cn/archive/2026/11/{d:02d}/" for d in range(1, 30)]
    assert shapes.admit(days[0]) == "fetch"
    shapes.learn(days[0], discover.LIST, useful=True)
    fetched = 1
    for day in days[1:]:
        if shapes.admit(day) != "fetch":
            break
        shapes.learn(day, discover.LIST, useful=False)
        fetched += 1
    assert fetched == 1 + discover.BUDGET


def test_untried_word_named_pages_of_a_barren_family_are_skipped() -> None:
    shapes = discover.Shapes()
    for tag in ("lingdao", "dangjian", "anquan"):
        assert shapes.admit(f"http://a.cn/tag/{tag}.html") == "fetch"
        shapes.learn(f"http://a.cn/tag/{tag}.html", discover.LIST, useful=False)
    assert shapes.admit("http://a.cn/tag/xiangcun.html") == "skip"
    assert shapes.admit("http://a.cn/a/1.html") == "fetch"


# --- the family of sites, crawled --------------------------------------------------------------------
def _crawl(cli: list[str], site: Site, folder: Path, hand_written: bool = False) -> tuple[str, str]:
    db_url = f"sqlite:///{folder / 'archive.sqlite3'}"
    result = run_cli(cli, "--db", db_url, "crawl", str(site.source_file(folder, hand_written)), timeout=300)
    assert result.returncode == 0, result.stderr
    return db_url, result.stderr


def _archived(db_url: str, site: Site) -> set[str]:
    from bench.discover import archived_paths

    return archived_paths(db_url, site)


@pytest.mark.parametrize("kind", FAMILY, ids=[k.name for k in FAMILY])
def test_a_name_and_a_start_url_archive_every_speech(kind: type[Site], cli, tmp_path: Path) -> None:  # noqa: ANN001
    with kind() as site:
        db_url, stderr = _crawl(cli, site, tmp_path)
        assert _archived(db_url, site) & site.articles == site.articles
        assert not (_archived(db_url, site) - site.articles), "a page that is not a speech was archived as one"
        assert len(site.requests) <= 1.6 * len(site.articles), site.requests
        assert site.fetched(lambda p: bool(TRAP_PAGES.search(p))) <= discover.BUDGET, site.requests
        assert site.fetched(lambda p: "sid=" in p or "token=" in p or "jsessionid" in p) == 0
        assert site.fetched(lambda p: p.startswith(FORBIDDEN)) == 0  # robots.txt obeyed
        [run] = crawl_runs(db_url)
        assert run.status == "finished" and "degraded" not in stderr


def test_sources_init_writes_a_source_file_that_crawls_the_site(cli, tmp_path: Path) -> None:  # noqa: ANN001
    with FanwenSite() as site:
        out = tmp_path / "sources" / "fanwen.toml"
        result = run_cli(cli, "sources", "init", f"{site.url}/", "--out", str(out), "--requests", "60", "--delay", "0")
        assert result.returncode == 0, result.stderr
        assert len(site.requests) <= 60
        assert re.search(r"article pages: 28 in 2 address shapes", result.stdout), result.stdout
        assert "traps skipped: visitor" in result.stdout and "encodings: utf-8" in result.stdout
        text = out.read_text(encoding="utf-8")
        source = parse_source(tomllib.loads(text), out)
        assert source.article_patterns and source.list_patterns and text.startswith("# Written by")
        again = run_cli(cli, "sources", "init", f"{site.url}/", "--out", str(out))
        assert again.returncode == 2 and "exists already" in again.stderr
        site.requests.clear()
        db_url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
        crawled = run_cli(cli, "--db", db_url, "crawl", str(out), timeout=300)
        assert crawled.returncode == 0, crawled.stderr
        assert _archived(db_url, site) == site.articles


class EmptySite(Site):
    """A site whose pages render their text with JavaScript: nothing for a crawler to archive."""

    name = "empty"

    def build(self) -> None:
        for path in ("/", "/about.html", "/news.html"):
            self.add(path, page("站点", "<div id='app'></div><script src='/app.js'></script>"
                                "<a href='/about.html'>关于</a><a href='/news.html'>新闻</a>"))


class ForbiddenSite(EmptySite):
    name = "forbidden"
    robots = "User-agent: *\nDisallow: /\n"


@pytest.mark.parametrize("kind,reason", [(EmptySite, "no article page found in"), (ForbiddenSite, "robots.txt forbade")])
def test_a_first_crawl_that_archives_nothing_is_degraded(kind: type[Site], reason: str, cli, tmp_path: Path) -> None:  # noqa: ANN001
    with kind() as site:
        db_url, stderr = _crawl(cli, site, tmp_path)
    [run] = crawl_runs(db_url)
    assert run.status == "degraded" and reason in run.stats["degraded"]
    assert f"run {run.id} is degraded" in stderr and reason in stderr
    listed = run_cli(cli, "--db", db_url, "runs")
    assert "degraded" in listed.stdout and reason in listed.stdout


class LongListSite(Site):
    """Ten list pages linked one to the next by 下一页 alone: deeper than ``depth_limit``."""

    name = "longlist"

    def build(self) -> None:
        for k in range(10):
            items = [(f"/a/{5 * k + j}.html", speech(5 * k + j)[0]) for j in range(5)]
            nxt = f"<a href='/list/{k + 2}.html'>下一页</a>" if k < 9 else ""
            self.add("/" if k == 0 else f"/list/{k + 1}.html", page("列表", links(items) + nxt))
            for path, title in items:
                self.add(path, page(title, article(title, speech(int(path[3:-5]))[1])))
                self.articles.add(path)


def test_a_long_list_is_followed_to_its_end_whatever_the_depth_limit(cli, tmp_path: Path) -> None:  # noqa: ANN001
    with LongListSite() as site:
        db_url, _ = _crawl(cli, site, tmp_path)
        assert _archived(db_url, site) == site.articles and len(site.articles) == 50
