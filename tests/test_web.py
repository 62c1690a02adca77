"""The web UI and JSON API, served by uvicorn on 127.0.0.1 and driven by a real Chromium.

Screenshots of each page go to ``artifacts/screenshots/`` (CI keeps that folder).
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest
import uvicorn

from archive.export.record import DETAIL, SUMMARY
from archive.storage.db import open_archive, sessions
from cleaners.chars import to_traditional
from tests.conftest import SHOTS, free_port
from tests.test_archive import PARAS, archive_html, html_page
from web.app import create_app

EVIL = "<script>window.pwned=1</script>"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'archive.sqlite3'}"
    engine = open_archive(url)
    with sessions(engine)() as session:
        archive_html(session, "http://a.cn/s.html", html_page("在全县驻村工作会议上的讲话", ["刘 敏 坚", "(2007年1月16日)", *PARAS]),
                     site="甲网")
        archive_html(session, "http://b.tw/t.html", to_traditional(html_page("在全县驻村工作会议上的讲话", PARAS)), site="乙网")
        archive_html(session, "http://c.cn/x.html", html_page(
            "关于网页安全的讲话", ["同志们:", f"有人在文章里写下{EVIL.replace('<', '&lt;').replace('>', '&gt;')}这样的代码,驻村干部要警惕。",
                           "网络安全工作必须常抓不懈,各单位要把责任落实到人,定期检查,及时整改,确保不出问题。",
                           "各乡镇要结合实际制定具体办法,明确专人负责网站和公众号的日常维护,发现异常情况立即报告。",
                           "同志们,网络安全没有旁观者,让我们共同努力,把这项工作抓实抓细抓出成效。"],
            extra="<script>window.pwned2=1</script><img src=x onerror='window.pwned3=1'>"), site="丙网")
    engine.dispose()
    with serving(url) as base:
        yield base


@contextmanager
def serving(db_url: str) -> Iterator[str]:
    """The app over ``db_url``, served by uvicorn on a free port of 127.0.0.1."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(create_app(db_url), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def get(base: str, path: str, **params: object) -> tuple[int, dict[str, str], bytes]:
    url = f"{base}{path}" + (f"?{urlencode(params)}" if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


# ---- JSON API ---------------------------------------------------------------------------------

def test_api_search_finds_both_scripts_with_facets(server: str) -> None:
    status, _, body = get(server, "/api/search", q="驻村")
    data = json.loads(body)
    assert status == 200 and data["total"] == 3
    assert {h["site"] for h in data["hits"]} == {"甲网", "乙网", "丙网"}
    assert dict(data["facets"]["site"]) == {"甲网": 1, "乙网": 1, "丙网": 1} and data["facets_sampled"] == 1  # exact
    assert data["total_estimated"] is False
    assert all("【驻村】" in h["snippet"] or "【駐村】" in h["snippet"] for h in data["hits"])
    assert all(set(h) == {*SUMMARY, "snippet", "occurrences"} for h in data["hits"])  # the speech record's names
    data = json.loads(get(server, "/api/search", q="驻村", site="乙网")[2])
    assert [h["site"] for h in data["hits"]] == ["乙网"]


def test_api_speech_group_and_errors(server: str) -> None:
    hit = json.loads(get(server, "/api/search", q="急躁情绪", site="甲网")[2])["hits"][0]
    speech = json.loads(get(server, f"/api/speech/{hit['id']}")[2])
    assert speech["paragraphs"][0] == "同志们:" and speech["capture"]["url"] == "http://a.cn/s.html"
    assert set(speech) == {*DETAIL, "capture"} and speech["captured_at"].endswith("Z")
    group = json.loads(get(server, f"/api/group/{speech['group_id']}")[2])
    assert len(group["members"]) == 2 and sum(m["canonical"] for m in group["members"]) == 1
    status, _, body = get(server, "/api/search", q='"unbalanced')
    assert status == 400 and "unbalanced quotes" in json.loads(body)["error"]
    assert get(server, "/api/speech/99999")[0] == 404
    assert get(server, "/api/search", q="驻村", order="sideways")[0] == 400


def test_api_concordance_csv_and_export(server: str) -> None:
    status, headers, body = get(server, "/api/concordance", q="驻村", width=4, sort="right", format="csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) >= 10 and all(r["match"] in ("驻村", "駐村") and len(r["left"]) <= 4 for r in rows)
    assert [r["right"] for r in rows] == sorted(r["right"] for r in rows)
    lines = get(server, "/api/export", q="驻村", format="jsonl")[2].decode().splitlines()
    assert len(lines) == 3 and {"id", "text", "group_id", "is_canonical"} <= set(json.loads(lines[0]))
    rows = [json.loads(line) for line in
            get(server, "/api/export", q="驻村", format="jsonl", segment="true", truncated="false")[2].splitlines()]
    assert rows and all(not r["truncated"] for r in rows)
    assert all(r["text_segmented"].replace(" ", "") == r["text_simplified"] for r in rows)
    assert "工作 会议" in rows[0]["text_segmented"]


def test_openapi_describes_the_api(server: str) -> None:
    spec = json.loads(get(server, "/api/openapi.json")[2])
    assert {"/api/search", "/api/speech/{speech_id}", "/api/group/{group_id}", "/api/concordance",
            "/api/export", "/api/runs"} <= set(spec["paths"])


def test_page_text_is_escaped_and_raw_view_is_sandboxed(server: str) -> None:
    hit = json.loads(get(server, "/api/search", q="网络安全")[2])["hits"][0]
    page = get(server, f"/speech/{hit['id']}")[2].decode()
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in page and EVIL not in page
    capture = json.loads(get(server, f"/api/speech/{hit['id']}")[2])["capture"]["id"]
    status, headers, raw = get(server, f"/capture/{capture}/raw")
    assert status == 200 and "sandbox" in headers["content-security-policy"]
    assert b"<script" not in raw and b"onerror" not in raw and "网络安全".encode() in raw


def test_server_binds_loopback_by_default() -> None:
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "[default: 127.0.0.1]" in result.output


# ---- the browser ------------------------------------------------------------------------------

def test_browser_search_filter_speech_concordance(server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page(java_script_enabled=False)  # the UI must work without scripts
    page.goto(server + "/")
    page.fill("input[name=q]", "驻村")
    page.click("button[type=submit]")
    assert page.inner_text("#total").startswith("3 speeches")
    page.screenshot(path=SHOTS / "search.png", full_page=True)
    page.click("section.facets >> text=乙网")
    assert page.inner_text("#total").startswith("1 speeches")
    page.click("ol.hits a")
    assert page.inner_text("h1") == "在全縣駐村工作會議上的講話"
    assert page.locator("article p#p3").count() == 1 and "Other copies (1)" in page.inner_text("main")
    page.screenshot(path=SHOTS / "speech.png", full_page=True)
    page.goto(server + "/concordance?" + urlencode({"q": "驻村", "width": 6, "sort": "left"}))
    cells = page.locator("table.kwic td.match").all_inner_texts()
    assert len(cells) >= 10 and set(cells) <= {"驻村", "駐村"}
    page.screenshot(path=SHOTS / "concordance.png", full_page=True)
    page.goto(server + "/?q=%22oops")
    assert "unbalanced quotes" in page.inner_text("p.error")
    page.close()


def test_browser_runs_no_script_from_archived_text(server: str, browser) -> None:  # noqa: ANN001
    page = browser.new_page()
    hit = json.loads(get(server, "/api/search", q="网络安全")[2])["hits"][0]
    page.goto(f"{server}/speech/{hit['id']}")
    assert EVIL in page.inner_text("article")
    assert page.evaluate("typeof window.pwned") == "undefined"
    with page.expect_navigation():
        page.click("text=sanitised view")
    page.wait_for_load_state()
    assert "网络安全" in page.content()
    assert page.evaluate("typeof window.pwned2 + typeof window.pwned3") == "undefinedundefined"
    page.screenshot(path=SHOTS / "raw-capture.png")
    page.close()


def _request(base: str, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(base + path, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.mark.parametrize("path", ["/speech/99999999999999999999", "/api/speech/9223372036854775808",
                                  "/api/group/9223372036854775808", "/capture/99999999999999999999/raw",
                                  "/speech/0", "/api/group/-1"])
def test_ids_out_of_range_are_not_found_not_a_crash(server: str, path: str) -> None:
    assert get(server, path)[0] == 404


def test_a_host_this_archive_is_not_served_under_is_refused(server: str) -> None:
    """DNS rebinding: a page on evil.test that points its name at 127.0.0.1 reads nothing."""
    status, _, body = _request(server, "/api/search?q=驻村".replace("驻村", "%E9%A9%BB%E6%9D%91"), host="evil.test")
    assert status == 400 and b"unknown host" in body
    assert _request(server, "/healthz", host="localhost")[0] == 200


@pytest.mark.parametrize("path", ["/", "/concordance", "/runs", "/api/search?q=x"])
def test_every_response_carries_a_strict_policy(server: str, path: str) -> None:
    _, headers, _ = get(server, path)
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'none'" in policy and "default-src 'self'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "no-referrer"


def test_a_source_url_that_is_not_a_web_address_is_no_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    engine = open_archive(url, writer=True)
    with sessions(engine)() as session:
        archive_html(session, "javascript:alert(document.domain)//a.html",
                     html_page("讲话", ["同志们:", *PARAS]), site="恶意网")
    engine.dispose()
    with serving(url) as base:
        page = get(base, "/speech/1")[2].decode()
    assert "javascript:alert(document.domain)//a.html" in page and 'href="javascript:' not in page


def test_brackets_of_the_text_stay_text_and_only_the_hit_is_marked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.sqlite3'}"
    engine = open_archive(url, writer=True)
    with sessions(engine)() as session:
        archive_html(session, "http://d.cn/f.html",
                     html_page("范文三篇", ["同志们:", "【范文三】是这次评选中的一等奖作品,驻村干部要认真学习。", *PARAS]), site="丁网")
    engine.dispose()
    with serving(url) as base:
        page = get(base, "/", q="一等奖")[2].decode()
    assert "【范文三】是这次评选中的<mark>一等奖</mark>作品" in page


def test_api_docs_are_served_by_the_app_itself(server: str) -> None:
    status, headers, body = get(server, "/api/docs")
    page = body.decode()
    assert status == 200 and "/api/search" in page and "/api/openapi.json" in page
    assert "<script" not in page and "cdn" not in page.lower()
    assert "script-src 'none'" in headers["content-security-policy"]


def test_runs_page_says_why_a_run_is_degraded(tmp_path: Path) -> None:
    from archive.health import judge
    from archive.storage import store

    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    engine = open_archive(url, writer=True)
    with sessions(engine)() as session:
        source = store.ensure_source(session, "newsite", {})
        run = store.start_run(session, source)
        store.finish_run(session, run, "finished", {"downloader/request_count": 7, "robotstxt/forbidden": 5})
        judge(session, [run])
        session.commit()
    engine.dispose()
    with serving(url) as base:
        page = get(base, "/runs")[2].decode()
        runs = json.loads(get(base, "/api/runs", limit=5)[2])
    assert "newsite" in page and "degraded" in page and "robots.txt forbade 5 of 12 requests" in page
    assert runs == [{**runs[0], "source": "newsite", "status": "degraded",
                     "degraded": "no speech archived: robots.txt forbade 5 of 12 requests"}]


def test_browser_trend_chart_draws_each_term_and_links_each_point_to_its_speeches(tmp_path: Path, browser) -> None:  # noqa: ANN001
    """Five speeches over 2005–2008 (none in 2007): one line per term, broken at 2007; the 2006
    point of 干部 leads to the one 2006 speech that uses it; the numbers come as CSV too."""
    from tests.dedup.labelled import labelled_set

    originals = {d.base: d.text for d in labelled_set() if d.kind == "original"}
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    engine = open_archive(url)
    with sessions(engine)() as session:
        for n, (base, date) in enumerate([(0, "2005年3月1日"), (1, "2005年9月8日"), (9, "2006年4月2日"),
                                          (2, "2006年7月1日"), (3, "2008年1月5日")]):
            archive_html(session, f"http://a.cn/{n}.html",
                         html_page(f"在全县工作会议上的讲话之{n}", ["刘敏坚", f"({date})", *originals[base].split("\n")]))
    engine.dispose()
    with serving(url) as base_url:
        page = browser.new_page(java_script_enabled=False)
        page.goto(base_url + "/trend")
        page.fill("input[name=terms]", "干部, 发展")
        page.click("button[type=submit]")
        assert page.locator("svg.chart g.series").count() == 2
        assert page.locator('g.series[data-term="干部"] polyline').count() == 2  # 2005–2006, then 2008
        assert page.locator('g.series[data-term="干部"] circle').count() == 3
        labels = page.locator("svg.chart text").all_text_contents()
        assert {"2005", "2006", "2007", "2008", "% of speeches 使用比例"} <= set(labels)
        rows = page.locator("table.numbers tr").all_inner_texts()
        assert [r.split("\t") for r in rows[1:]] == [["2005", "2", "100", "100"], ["2006", "2", "50", "100"],
                                                     ["2007", "0", "–", "–"], ["2008", "1", "100", "100"]]
        page.screenshot(path=SHOTS / "trend.png", full_page=True)
        status, headers, body = get(base_url, page.get_attribute("a[href^='/api/trend']", "href"))
        assert status == 200 and "text/csv" in headers["content-type"]
        assert body.decode("utf-8-sig").splitlines()[2] == "2006,2,50.0,100.0,1,2"
        page.locator('g.series[data-term="干部"] a').nth(1).click()
        assert page.inner_text("#total").startswith("1 speeches")
        assert "2006" in page.inner_text("ol.hits")
        page.close()


@pytest.mark.postgres
def test_an_estimated_total_says_so_and_pages_by_what_was_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """On PostgreSQL a longer word's total may be estimated from a sample of its candidates: the
    page marks it ≈, and offers a next page only after a full one (an estimate may be long)."""
    from tests.conftest import pg_schema
    from tests.test_search import fill, scan

    monkeypatch.setattr("archive.query.search.TESTED_EXACT", 5)
    monkeypatch.setattr("archive.query.search.TESTED_SAMPLE", 3)
    monkeypatch.setattr("archive.query.search.MIN_SAMPLED", 1)
    monkeypatch.setattr("web.app.PER_PAGE", 2)
    with pg_schema() as url:
        engine = open_archive(url)
        with sessions(engine)() as session:
            fill(session)
            matches = len(scan(session, "基层组织"))
        engine.dispose()
        with serving(url) as base:
            for sample in range(2, 8):  # a sample size whose estimate misses by a page or more
                monkeypatch.setattr("archive.query.search.TESTED_SAMPLE", sample)
                data = json.loads(get(base, "/api/search", q="基层组织", order="date")[2])
                if abs(data["total"] - matches) >= 2:
                    break
            assert data["total_estimated"] is True and data["facets_sampled"] > 1 and abs(data["total"] - matches) >= 2
            pages, page = [], 1
            while True:
                html = get(base, "/", q="基层组织", order="date", page=page)[2].decode()
                assert f"≈{data['total']} speeches" in html
                pages.append(html.count('<a href="/speech/'))
                if 'rel="next"' not in html:
                    break
                page += 1
            assert pages[:-1] == [2] * (len(pages) - 1) and pages[-1] < 2 and sum(pages) == matches  # all, no more
